# The two commands of the README (both set the environment up first if needed):
#   make demo   RecursiveMix pretraining on real Fashion-MNIST on the CPU
#   make test   the test suite, in the machine's stack (CI: `latest`)
# The other supported stack, for developers (its own venv, .venv-openmmlab):
#   make test STACK=openmmlab     (same as MMRM_STACK=openmmlab make test)
.PHONY: setup demo test
STACK ?= $(MMRM_STACK)
setup:
	MMRM_STACK=$(STACK) bash scripts/setup_env.sh
demo:
	bash demo/demo.sh
test:
	MMRM_STACK=$(STACK) bash scripts/run_tests.sh
