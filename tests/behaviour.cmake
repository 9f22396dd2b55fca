# Behaviour and concurrency tests: what each kind of request, notification,
# wait and teardown does, and that many threads sharing a context lose nothing.
uaio_test(rw-basic REF TIMEOUT 60)
uaio_test(userspace-reap REF TIMEOUT 60)
uaio_test(resfd REF TIMEOUT 30 LABELS concurrency)
uaio_test(resfd-saturate REF TIMEOUT 30)
uaio_test(poll REF TIMEOUT 30 LABELS concurrency)
uaio_test(poll-wakes-all TIMEOUT 120 LABELS concurrency)
uaio_test(cancel REF TIMEOUT 30 LABELS concurrency)
uaio_test(getevents-timeout REF TIMEOUT 30)
uaio_test(eintr REF TIMEOUT 30 LABELS concurrency)
uaio_test(destroy-wakes REF TIMEOUT 30 LABELS concurrency)
uaio_test(destroy-canary REF TIMEOUT 120 LABELS concurrency)
uaio_test(fork REF TIMEOUT 30 LABELS concurrency)
uaio_test(process-exit REF TIMEOUT 300 LABELS concurrency)
uaio_test(closed-fd REF TIMEOUT 60 LABELS concurrency)
uaio_test(stream-reads REF TIMEOUT 60 LIBS util)
uaio_test(signals-untouched REF TIMEOUT 60 LABELS concurrency)
uaio_test(mt-stress REF TIMEOUT 90 LABELS concurrency)
uaio_test(threads-lifecycle ENGINES threads TIMEOUT 60 LABELS concurrency)
uaio_test(pgetevents REF TIMEOUT 30)
uaio_test(ring-visible REF TIMEOUT 30 LABELS concurrency)
uaio_test(ring-move REF TIMEOUT 30)
uaio_test(vector-resume REF TIMEOUT 30)
uaio_test(context-cost REF TIMEOUT 120)
# A program under valgrind's memcheck (skipped without valgrind); the
# library tells memcheck what io_uring wrote only if built with its header.
if(UAIO_HAVE_VALGRIND)
  uaio_test(valgrind REF TIMEOUT 300)
endif()
# Security: a set-user-ID program ignores the UAIO_* variables.
uaio_test(secure-env ENGINES threads TIMEOUT 30)

# Failures inside the library (tests/faultshim.c makes malloc, mmap,
# pthread_create, eventfd, dup and io_uring_queue_init fail on command).
# Not under sanitizers, whose runtimes own malloc.
if(NOT UAIO_SANITIZE AND NOT UAIO_TSAN)
  uaio_test(alloc-faults TIMEOUT 120)
  target_sources(alloc-faults PRIVATE faultshim.c)
  # The library's calls must find the shim's definitions.
  set_target_properties(alloc-faults PROPERTIES ENABLE_EXPORTS ON)
endif()

# Long stress, bounded for CI (scripts/stress.sh runs the full counts).
uaio_test(stress-mix REF TIMEOUT 120 LABELS "stress;concurrency")
uaio_test(stress-cycles REF TIMEOUT 300 LABELS "stress;concurrency")

# auto's routing, seen in UAIO_STATS: O_DIRECT on kernel AIO (on the engine
# when the kernel refuses io_setup), cached reads and buffered writes
# inside io_submit, uncached reads on the engine.
uaio_test(auto-paths ENGINES auto auto-threads TIMEOUT 30)
if(UAIO_WITH_URING)
  add_test(NAME auto-paths.auto-no-kernel-aio COMMAND seccomp-run
    --deny io_setup=ENOSYS -- $<TARGET_FILE:auto-paths>)
  set_tests_properties(auto-paths.auto-no-kernel-aio PROPERTIES
    ENVIRONMENT "UAIO_ENGINE=auto;UAIO_TEST_ENGINE=auto"
    LABELS "auto;fallback" SKIP_RETURN_CODE 77 TIMEOUT 30)
endif()

# pthread_cancel() of a thread inside a call: cancelled after it, as with
# the system calls.
uaio_test(thread-cancel REF TIMEOUT 120 LABELS concurrency)

# exit() from a signal handler in the middle of a call ends the process.
# Not under TSan, which cannot follow the forked children's threads.
if(NOT UAIO_TSAN)
  uaio_test(exit-in-call REF TIMEOUT 400 LABELS concurrency)
endif()
