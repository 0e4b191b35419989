"""Web management (manual chapter 9) and the HTTP API, served by the device service ``web``."""
