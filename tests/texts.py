"""Short news texts written for the tests (none copied from the seeds):
two independent reports of one border crossing and an unrelated story."""

FIRST = """Kim Jong Un arrives in Russia by armoured train

VLADIVOSTOK, April 4 (Harbour Wire) -- North Korean leader Kim Jong Un crossed into Russia by armoured train early on Thursday, regional officials said, ahead of expected talks with Russian President Vladimir Putin.

The train passed the Tumen river bridge at dawn and was met at the border station by the regional governor, the officials said.
"""

SECOND = """North Korea's Kim reaches Russian border station

MOSCOW, April 4 (Steppe News) -- Kim Jong Un's armoured train crossed into Russia on Thursday morning, the Kremlin said, confirming that the North Korean leader would meet Vladimir Putin later this week.

A Kremlin spokesman said the train had stopped at the border station where the regional governor greeted Kim.
"""

UNRELATED = """City council approves new tram line

RIGA, April 4 (Baltic Desk) -- The city council approved a new tram line on Thursday that will link the old town with the airport by 2029.
"""
