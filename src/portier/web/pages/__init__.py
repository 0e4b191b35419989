"""The routers of the management pages, one module per group of menus."""
