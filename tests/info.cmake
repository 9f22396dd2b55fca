# uaio info tells the truth: plain, and under seccomp filters like those of
# container runtimes (io_uring_setup -> EPERM, io_setup -> ENOSYS).
# seccomp-run installs the filter; info-check runs `uaio info --json` under
# it and compares the report with what it finds itself under the same filter.
if(EXISTS ${PROJECT_SOURCE_DIR}/tools/CMakeLists.txt)
  add_executable(seccomp-run seccomp-run.c)
  target_compile_definitions(seccomp-run PRIVATE _GNU_SOURCE)
  add_executable(info-check info-check.c)
  target_compile_definitions(info-check PRIVATE _GNU_SOURCE
    UAIO_WITH_URING=$<BOOL:${UAIO_WITH_URING}>)

  set(_uaio $<TARGET_FILE:uaio-cli>)
  set(_deny $<TARGET_FILE:seccomp-run>)
  add_test(NAME info.plain COMMAND info-check -- ${_uaio})
  add_test(NAME info.deny-uring COMMAND ${_deny} --deny io_uring_setup=EPERM --
    $<TARGET_FILE:info-check> --seccomp --expect uring=no:EPERM -- ${_uaio})
  add_test(NAME info.deny-aio COMMAND ${_deny} --deny io_setup=ENOSYS --
    $<TARGET_FILE:info-check> --seccomp --expect kernel=no:ENOSYS
    --expect threads=yes -- ${_uaio})
  add_test(NAME info.deny-both COMMAND ${_deny}
    --deny io_uring_setup=EPERM --deny io_setup=ENOSYS --
    $<TARGET_FILE:info-check> --seccomp --expect kernel=no:ENOSYS
    --expect uring=no:EPERM --expect threads=yes -- ${_uaio})
  set_tests_properties(info.plain info.deny-uring info.deny-aio info.deny-both
    PROPERTIES LABELS "tools;fallback" TIMEOUT 60)
  # The filter helper itself: bad arguments are usage errors, the command's
  # status comes back, and a denied call fails with the errno asked for.
  add_test(NAME seccomp-run.usage COMMAND ${_deny} --deny io_setup)
  set_tests_properties(seccomp-run.usage PROPERTIES LABELS "tools" WILL_FAIL TRUE)
  add_test(NAME seccomp-run.status COMMAND ${_deny} --deny io_setup=ENOSYS -- sh -c "exit 3")
  set_tests_properties(seccomp-run.status PROPERTIES LABELS "tools" WILL_FAIL TRUE)
endif()
