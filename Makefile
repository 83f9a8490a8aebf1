# mihsec: the two commands a newcomer types are `make testbed` and `make test`.
PY      := .venv/bin/python
MIHSEC  := $(PY) -m testbed
TOPO    ?= two-ap-same-ds
PYTEST  := $(PY) -m pytest -p no:cacheprovider

.PHONY: setup testbed reproduce roam test test-unit test-radio bench clean down

setup:
	@bash scripts/setup.sh

## The main job: the quick campaign (every scheme a few times, AAA near and far); prints the summary table,
## writes CSV, plots and report.md under results/quick-<time>/.
testbed: setup
	$(MIHSEC) campaign quick

## The full campaign: every scheme, AAA RTT sweep, 20 handovers per cell (about an hour under TCG).
reproduce: setup
	$(MIHSEC) campaign reproduce

## One topology by hand: connect (full EAP-TLS), roam (full EAP), roam back (PMKSA cache).
roam: setup
	$(MIHSEC) roam $(TOPO)

## Unit and host tests here; tests with real radios natively or inside the hwsim VM.
test: setup
	$(MAKE) --no-print-directory test-unit
	$(MAKE) --no-print-directory test-radio

test-unit:
	$(PYTEST) tests/unit -m "not radio" -q

test-radio:
	MIHSEC_TEST_RESULTS=$(CURDIR)/results/tests-$$(date +%Y%m%d-%H%M%S) $(MIHSEC) vm --if-needed --timeout 4800 --rwdir results -- $(PYTEST) tests/integration -m radio -v

bench: setup
	$(MIHSEC) mih bench

down:
	@$(MIHSEC) down

clean: down
	rm -rf results
