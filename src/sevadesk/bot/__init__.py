"""The WhatsApp citizen bot: flows declared as data (flow.yaml), texts in message catalogues
(catalogues/*.yaml), a per-citizen session state machine persisted in the database."""
