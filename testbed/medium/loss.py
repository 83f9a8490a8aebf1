"""Frame loss from SNR: a documented curve per bit rate.

SNR = signal - noise floor (noise_th, default -91 dBm: thermal noise of a 20 MHz channel, -101 dBm, plus a
10 dB noise figure, the receiver the IEEE 802.11 sensitivity figures assume).
For each rate, `snr10` is the SNR at which a 1024-byte frame is lost with probability 10 %: the standard's
minimum sensitivity for that rate minus the noise floor (-91). The curve around it is logistic in dB:

    PER_1024(snr) = 1 / (1 + exp((snr - snr10) / W + ln 9)),  W = 1 dB
    PER_L(snr)    = 1 - (1 - PER_1024(snr)) ** (L / 1024)

so PER is 10 % at snr10, 50 % at snr10 - 2.2 dB, 90 % at snr10 - 4.4 dB and 1 % at snr10 + 2.4 dB.
A transmission attempt succeeds when the frame and its ACK (14 bytes at the lowest rate, reverse link) both
get through.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

W = 1.0  # dB: width of the logistic transition
NOISE_TH = -91.0


@dataclass(frozen=True)
class Rate:
    mbps: float
    sensitivity: float  # dBm for 10 % PER (8 % FER for DSSS) at 1024 bytes
    source: str

    @property
    def snr10(self) -> float:
        return self.sensitivity - NOISE_TH


# hwsim's bitrate table (2.4 GHz: all twelve; 5 GHz: from 6 Mb/s on), with receiver minimum sensitivities.
RATES: tuple[Rate, ...] = (
    Rate(1, -83, "DSSS DBPSK: 3 dB below 2 Mb/s (not specified by IEEE 802.11)"),
    Rate(2, -80, "IEEE 802.11-2020 15.4.6.14, DQPSK"),
    Rate(5.5, -79, "interpolated between 2 and 11 Mb/s"),
    Rate(11, -76, "IEEE 802.11-2020 16.3.8.2, CCK"),
    Rate(6, -82, "IEEE 802.11-2020 Table 17-18"),
    Rate(9, -81, "Table 17-18"),
    Rate(12, -79, "Table 17-18"),
    Rate(18, -77, "Table 17-18"),
    Rate(24, -74, "Table 17-18"),
    Rate(36, -70, "Table 17-18"),
    Rate(48, -66, "Table 17-18"),
    Rate(54, -65, "Table 17-18"),
)
OFDM_BASE = 4  # index of 6 Mb/s in RATES; hwsim's 5 GHz band starts there

# HT MCS 0-7 (one stream, 20 MHz, IEEE 802.11-2020 Table 19-23); MCS 8-15 reuse them per stream.
MCS_SENSITIVITY = (-82, -79, -77, -74, -70, -66, -65, -64)
MCS_LEGACY = (4, 6, 7, 8, 9, 10, 11, 11)  # the legacy rate index closest below each MCS (for RX_RATE)

FLAG_MCS = 1 << 3  # MAC80211_HWSIM_TX_RC_MCS
FLAG_VHT = 1 << 8  # MAC80211_HWSIM_TX_RC_VHT_MCS


def band_offset(freq: int) -> int:
    return OFDM_BASE if freq > 3000 else 0


def rate_of(idx: int, flags: int, freq: int) -> tuple[float, int]:
    """(snr10 in dB, legacy RX_RATE index for the receiver) of one tx_info rate entry."""
    off = band_offset(freq)
    if flags & (FLAG_MCS | FLAG_VHT):
        m = idx % 8 if flags & FLAG_MCS else min(idx & 0x0F, 7)
        return MCS_SENSITIVITY[m] - NOISE_TH, MCS_LEGACY[m] - off
    i = max(0, min(idx + off, len(RATES) - 1))
    return RATES[i].snr10, i - off


def per(snr: float, snr10: float, length: int = 1024) -> float:
    """Probability that a frame of `length` bytes is lost at `snr` dB."""
    x = (snr - snr10) / W + math.log(9)
    if x > 700:
        return 0.0
    p1024 = 1.0 / (1.0 + math.exp(x))
    return 1.0 - (1.0 - p1024) ** (max(length, 1) / 1024)
