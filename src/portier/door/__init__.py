"""The door station: relays, inputs, tamper, buttons and LEDs on GPIO pins (real or virtual)."""
