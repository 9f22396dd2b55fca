# Engine choice and fallbacks (uaio only; the test unsets UAIO_ENGINE itself).
# Serial: it uses up fs.aio-max-nr for a moment, which would fail other
# tests' kernel contexts.
uaio_test(engine-choice ENGINES threads TIMEOUT 60)
set_tests_properties(engine-choice.threads PROPERTIES RUN_SERIAL TRUE LABELS "threads;fallback")

# UAIO_TRUST_POINTERS=1 skips the kernel-checked copies of the caller's
# memory (only NULL and kernel-half pointers get EFAULT): the same I/O
# behaviour must hold without them.
foreach(engine IN ITEMS threads uring)
  if(engine IN_LIST UAIO_TEST_ENGINES)
    foreach(t IN ITEMS rw-basic mt-stress userspace-reap)
      add_test(NAME ${t}.${engine}-trusted COMMAND ${t})
      set_tests_properties(${t}.${engine}-trusted PROPERTIES
        ENVIRONMENT "UAIO_ENGINE=${engine};UAIO_TEST_ENGINE=${engine};UAIO_TRUST_POINTERS=1"
        LABELS "${engine};trusted" SKIP_RETURN_CODE 77 TIMEOUT 90)
    endforeach()
  endif()
endforeach()

