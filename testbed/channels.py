"""IEEE 802.11 channel numbers of the 20 MHz channels mihsec can start an AP on, and their frequencies.

A table rather than a formula: the formula 5000 + 5 * ch accepts any number (channel 99 would become
5495 MHz, which is no channel at all), so validation and the plan both read this table.
"""
from __future__ import annotations

# 2.4 GHz: channels 1-13 every 5 MHz from 2412, channel 14 (Japan, 802.11b only) at 2484.
BAND_2G = {ch: 2407 + 5 * ch for ch in range(1, 14)} | {14: 2484}
# 5 GHz (IEEE 802.11-2020 Annex E, 20 MHz channels): UNII-1/2/2e/3.
BAND_5G = {ch: 5000 + 5 * ch for ch in [*range(36, 65, 4), *range(100, 145, 4), *range(149, 166, 4)]}
CHANNELS: dict[int, int] = BAND_2G | BAND_5G


def channel_freq(channel: int) -> int:
    """Centre frequency in MHz; KeyError-free: an unknown channel raises ValueError naming the valid ones."""
    try:
        return CHANNELS[channel]
    except KeyError:
        raise ValueError(f"channel {channel} is not an IEEE 802.11 20 MHz channel ({describe()})") from None


def is_5ghz(channel: int) -> bool:
    return channel in BAND_5G


def describe() -> str:
    return "2.4 GHz: 1-14; 5 GHz: 36-64, 100-144 and 149-165 in steps of 4"
