"""Tests of the asyncio edges (sockets on 127.0.0.1, real DNS and TLS on loopback)."""
