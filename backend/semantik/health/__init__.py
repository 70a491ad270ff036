"""Health: readiness of every service Semantik depends on."""
