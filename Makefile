# The two commands of the README (both set the environment up first if needed):
#   make demo   RecursiveMix pretraining on real Fashion-MNIST on the CPU
#   make test   the test suite
.PHONY: setup demo test
setup:
	bash tools/setup_env.sh
demo:
	bash tools/demo.sh
test:
	bash tools/run_tests.sh
