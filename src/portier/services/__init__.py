"""Device services that listen to the bus and talk to the outside world (Action URL, alarms...)."""
