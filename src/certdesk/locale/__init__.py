"""Translation catalogs: <lang>/LC_MESSAGES/certdesk.po (docs/translations.md)."""
