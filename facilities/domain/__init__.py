"""The facilities' rules, framework-free: what a site is and may say (``fields``), where each
kind may hang (``kinds``), the countries an address may name (``countries``), the refusals
(``errors``), and an import read (``import_rows``) and planned (``import_plan``) before
anything is written. ``facilities.services`` writes through them and ``facilities.selectors``
reads; the API, the admin and the import all reach the rules that way. Imports no Django:
``.importlinter`` (facilities-domain-is-pure) keeps it so."""
