# Engine choice and fallbacks (uaio only; the test unsets UAIO_ENGINE itself).
# Serial: it uses up fs.aio-max-nr for a moment, which would fail other
# tests' kernel contexts.
uaio_test(engine-choice ENGINES threads TIMEOUT 60)
set_tests_properties(engine-choice.threads PROPERTIES RUN_SERIAL TRUE LABELS "threads;fallback")
