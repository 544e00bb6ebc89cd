# The two commands of the README's quick start are `make run` and `make test`.
.PHONY: setup run test images package bench lint clean

setup:
	./scripts/setup.sh

run: setup
	./scripts/run.sh

test: setup
	./scripts/test.sh

images:
	.venv/bin/python scripts/build_images.py

package: setup
	./packaging/build.sh

bench: setup
	./benchmarks/run.sh

lint:
	.venv/bin/ruff check canfar_desktop tests benchmarks scripts && .venv/bin/mypy
