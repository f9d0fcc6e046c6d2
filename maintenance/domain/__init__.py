"""The plans' rules, framework-free: a recurrence read and expanded in a site's time zone
(``recurrence``), a plan's fields (``fields``), its occurrences' states (``occurrences``) and
the refusals (``errors``). ``.importlinter`` (maintenance-domain-is-pure) keeps Django out."""
