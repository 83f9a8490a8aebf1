"""One small class per daemon: hostapd, wpa_supplicant, FreeRADIUS."""
