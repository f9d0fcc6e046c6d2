"""The facilities' rules, framework-free: what a site is and may say (``fields``), where each
kind may hang (``kinds``), the countries an address may name (``countries``), what an asset
is and may say (``assets``), the refusals (``errors``), and an import read (``import_rows``)
and planned (``import_plan``) before anything is written. ``facilities.services`` and
``facilities.asset_services`` write through them and the selectors read; the API, the admin
and the import all reach the rules that way. Imports no Django: ``.importlinter``
(facilities-domain-is-pure) keeps it so."""
