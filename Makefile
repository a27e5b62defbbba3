# The two commands of the README (both set the environment up first if needed):
#   make demo   RecursiveMix pretraining on real Fashion-MNIST on the CPU
#   make test   the test suite
.PHONY: setup demo test
setup:
	bash scripts/setup_env.sh
demo:
	bash demo/demo.sh
test:
	bash scripts/run_tests.sh
