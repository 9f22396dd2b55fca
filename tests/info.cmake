# uaio info tells the truth: plain, and under seccomp filters like those of
# container runtimes (io_uring_setup -> EPERM, io_setup -> ENOSYS).
# seccomp-run installs the filter; info-check runs `uaio info --json` under
# it and compares the report with what it finds itself under the same filter.
if(EXISTS ${PROJECT_SOURCE_DIR}/tools/CMakeLists.txt)
  add_executable(info-check info-check.c)
  target_include_directories(info-check PRIVATE ${PROJECT_SOURCE_DIR}/include)
  # The report is read with the command's JSON reader (tools/json.c).
  target_link_libraries(info-check PRIVATE uaio-toolkit)
  target_compile_definitions(info-check PRIVATE _GNU_SOURCE
    UAIO_WITH_URING=$<BOOL:${UAIO_WITH_URING}>)

  set(_uaio $<TARGET_FILE:uaio-cli>)
  set(_deny $<TARGET_FILE:seccomp-run>)
  add_test(NAME info.plain COMMAND info-check --rwf probed -- ${_uaio})
  add_test(NAME info.deny-uring COMMAND ${_deny} --deny io_uring_setup=EPERM --
    $<TARGET_FILE:info-check> --seccomp --expect uring=no:EPERM -- ${_uaio})
  add_test(NAME info.deny-aio COMMAND ${_deny} --deny io_setup=ENOSYS --
    $<TARGET_FILE:info-check> --seccomp --expect kernel=no:ENOSYS
    --expect threads=yes -- ${_uaio})
  add_test(NAME info.deny-both COMMAND ${_deny}
    --deny io_uring_setup=EPERM --deny io_setup=ENOSYS --
    $<TARGET_FILE:info-check> --seccomp --expect kernel=no:ENOSYS
    --expect uring=no:EPERM --expect threads=yes -- ${_uaio})
  add_test(NAME info.deny-rwf COMMAND ${_deny}
    --deny preadv2=ENOSYS --deny pwritev2=ENOSYS --
    $<TARGET_FILE:info-check> --seccomp --rwf unprobed -- ${_uaio})
  set_tests_properties(info.plain info.deny-uring info.deny-aio info.deny-both
    info.deny-rwf PROPERTIES LABELS "tools;fallback" TIMEOUT 60)
  # seccomp-run itself: a bad argument is a usage error (2), the command's
  # status comes back, an unknown command gives 127.  (That a denied call
  # fails with the errno asked for is what info-check's own probes show.)
  add_test(NAME seccomp-run.cli COMMAND sh -c [[
    "$0" --deny io_setup -- true 2>/dev/null; [ $? -eq 2 ] || exit 1
    "$0" --deny io_setup=EFROB -- true 2>/dev/null; [ $? -eq 2 ] || exit 1
    "$0" --deny io_setup=ENOSYS -- sh -c 'exit 3'; [ $? -eq 3 ] || exit 1
    "$0" --deny io_setup=ENOSYS -- /nonexistent 2>/dev/null; [ $? -eq 127 ]
    ]] $<TARGET_FILE:seccomp-run>)
  set_tests_properties(seccomp-run.cli PROPERTIES LABELS "tools")
endif()

# auto in a program whose raw AIO system calls cannot reach uaio (libaio.so.1
# loaded by dlopen without RTLD_GLOBAL): the system libaio's behaviour.
add_executable(dlopen-auto dlopen-auto.c)
target_link_libraries(dlopen-auto PRIVATE uaio_test_helpers)
add_test(NAME dlopen-auto.plain COMMAND dlopen-auto $<TARGET_FILE:uaio>)
if(TARGET seccomp-run)
  add_test(NAME dlopen-auto.no-kernel-aio COMMAND seccomp-run
    --deny io_setup=ENOSYS -- $<TARGET_FILE:dlopen-auto> $<TARGET_FILE:uaio> 38)
  set_tests_properties(dlopen-auto.no-kernel-aio PROPERTIES LABELS "fallback" TIMEOUT 30)
endif()
set_tests_properties(dlopen-auto.plain PROPERTIES LABELS "fallback" TIMEOUT 30)

# RESFD near saturation where kernel AIO is refused: nothing blocks.
if(TARGET seccomp-run AND TARGET resfd-saturate)
  add_test(NAME resfd-saturate.threads-no-kernel-aio COMMAND seccomp-run
    --deny io_setup=ENOSYS -- $<TARGET_FILE:resfd-saturate> no-kernel-aio)
  set_tests_properties(resfd-saturate.threads-no-kernel-aio PROPERTIES
    ENVIRONMENT "UAIO_ENGINE=threads;UAIO_TEST_ENGINE=threads"
    LABELS "threads;fallback" TIMEOUT 30)
endif()
