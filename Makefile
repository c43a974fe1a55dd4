# The README's two commands: `make demo` and `make test`.
.PHONY: setup demo test bench

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/herolion train --config herolion/configs/demo.py --workdir workdirs/demo --cpu-devices auto

# --durations: the slowest tests in every CI log, to keep the suite within its 15 minutes.
# -n 3 on 2 cores: many CLI tests wait (process start-up, SLURM, heartbeats); see
# docs/architecture.md.
test: setup
	.venv/bin/python -m pytest -q -n 3 --dist loadfile --durations=15

bench: setup
	.venv/bin/python bench/optim_update.py
	.venv/bin/python bench/models.py
	.venv/bin/python bench/attention.py
	.venv/bin/python bench/data.py
