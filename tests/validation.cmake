# Argument validation, error order and ABI tests.  Each one runs on the
# system libaio (REF) too, so what it asserts is what Linux does.
uaio_test(setup-errors REF TIMEOUT 30)
uaio_test(destroy-errors REF TIMEOUT 30)
uaio_test(submit-errors REF TIMEOUT 30)
uaio_test(submit-partial REF TIMEOUT 30)
uaio_test(submit-filetypes REF TIMEOUT 30)
uaio_test(ring-overcommit REF TIMEOUT 30)
uaio_test(getevents-errors REF TIMEOUT 30)
uaio_test(cancel-errors REF TIMEOUT 30)
uaio_test(errno-preserved REF TIMEOUT 30)
uaio_test(abi-old-symbols REF TIMEOUT 30)

# A program linked against the system libaio, run on uaio's libaio.so.1.
# Not with sanitizers: an instrumented library cannot be loaded into an
# uninstrumented program.
if(TARGET abi-old-symbols-ref AND NOT UAIO_SANITIZE AND NOT UAIO_TSAN)
  foreach(engine IN LISTS UAIO_PROGRAM_ENGINES)
    add_test(NAME abi-old-symbols.dropin-${engine} COMMAND abi-old-symbols-ref)
    set_tests_properties(abi-old-symbols.dropin-${engine} PROPERTIES
      ENVIRONMENT "LD_LIBRARY_PATH=$<TARGET_FILE_DIR:uaio>;UAIO_ENGINE=${engine};UAIO_TEST_ENGINE=${engine};UAIO_TEST_EXPECT_UAIO=1"
      LABELS "${engine};abi" SKIP_RETURN_CODE 77 TIMEOUT 30)
  endforeach()
endif()

# ABI: the dynamic symbol table and version nodes against the system libaio.
if(SYSTEM_LIBAIO)
  add_test(NAME abi-symbols
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/abi-symbols.sh $<TARGET_FILE:uaio> ${SYSTEM_LIBAIO})
  set_tests_properties(abi-symbols PROPERTIES LABELS "abi" SKIP_RETURN_CODE 77 TIMEOUT 30)
endif()

# ABI: struct layouts and inline helpers of include/libaio.h against the
# system's libaio.h and <linux/aio_abi.h>, one translation unit each.
find_file(UAIO_SYSTEM_LIBAIO_H libaio.h PATHS /usr/include NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
if(UAIO_SYSTEM_LIBAIO_H)
  add_executable(abi-layout abi-layout.c abi-layout-system.c abi-layout-kernel.c)
  target_include_directories(abi-layout PRIVATE ${PROJECT_SOURCE_DIR}/include ${CMAKE_CURRENT_SOURCE_DIR})
  set_source_files_properties(abi-layout-system.c PROPERTIES
    COMPILE_DEFINITIONS "SYSTEM_LIBAIO_H=\"${UAIO_SYSTEM_LIBAIO_H}\"")
  add_test(NAME abi-layout COMMAND abi-layout)
  set_tests_properties(abi-layout PROPERTIES LABELS "abi" TIMEOUT 30)
endif()

# Raw AIO system calls mixed with libaio's on one handle, in a program built
# against uaio and, as MariaDB is, against the system libaio and run on
# uaio's libaio.so.1 through LD_LIBRARY_PATH.
uaio_test(raw-syscalls REF TIMEOUT 30)
if(TARGET raw-syscalls-ref AND NOT UAIO_SANITIZE AND NOT UAIO_TSAN)
  foreach(engine IN LISTS UAIO_PROGRAM_ENGINES)
    add_test(NAME raw-syscalls.dropin-${engine} COMMAND raw-syscalls-ref)
    set_tests_properties(raw-syscalls.dropin-${engine} PROPERTIES
      ENVIRONMENT "LD_LIBRARY_PATH=$<TARGET_FILE_DIR:uaio>;UAIO_ENGINE=${engine};UAIO_TEST_ENGINE=${engine}"
      LABELS "${engine};abi" SKIP_RETURN_CODE 77 TIMEOUT 30)
  endforeach()
endif()
