# Unmodified programs from Debian (fio, qemu-img from qemu-utils) linked
# against libaio.so.1, run on uaio's build of it on every engine and, as the
# reference, on the system libaio.  Each test proves from UAIO_STATS which
# library and engine the program ran on.  Skipped (77) when the program is
# not installed.
#
# With sanitizers, the uninstrumented programs can only load the instrumented
# libaio.so.1 when the ASan runtime is preloaded, so pass its path along.
set(UAIO_PROGRAM_PRELOAD "-")
if(UAIO_SANITIZE)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
    OUTPUT_VARIABLE _uaio_asan OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(IS_ABSOLUTE "${_uaio_asan}" AND EXISTS "${_uaio_asan}")
    set(UAIO_PROGRAM_PRELOAD "${_uaio_asan}")
  else()
    set(UAIO_PROGRAM_PRELOAD "missing")
    message(WARNING "libasan.so not found: fio and qemu-img tests will be skipped")
  endif()
endif()

set(UAIO_FIO_CASES
  randread-qd1 randread-qd32 randwrite-qd1 randwrite-qd32
  randread-buffered randwrite-buffered randrw-qd8
  userspace-reap nowait-direct nowait-buffered nowait-uncached
  verify-direct verify-buffered verify-userspace-reap
  cmdprio vectored)
set(UAIO_QEMU_IMG_CASES bench-read bench-write convert convert-ooo)

# uaio_program_test(SCRIPT PREFIX CASES...)
function(uaio_program_test script prefix)
  if(UAIO_TSAN)
    return() # a TSan library needs an instrumented program
  endif()
  set(engines ${UAIO_PROGRAM_ENGINES})
  if(SYSTEM_LIBAIO)
    list(APPEND engines ref)
  endif()
  foreach(c IN LISTS ARGN)
    foreach(engine IN LISTS engines)
      set(name ${prefix}.${c}.${engine})
      add_test(NAME ${name}
        COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/${script}
                $<TARGET_FILE_DIR:uaio> ${engine} ${UAIO_PROGRAM_PRELOAD} ${c})
      set_tests_properties(${name} PROPERTIES
        LABELS "${engine};programs" SKIP_RETURN_CODE 77 TIMEOUT 60)
    endforeach()
  endforeach()
endfunction()

uaio_program_test(fio-libaio.sh fio ${UAIO_FIO_CASES})
uaio_program_test(qemu-img-aio.sh qemu-img ${UAIO_QEMU_IMG_CASES})

# MariaDB's InnoDB (Debian's mariadb-server) with --innodb-linux-aio=aio: it
# waits with the raw io_getevents system call.  On every engine, the
# reference, and auto with fs.aio-max-nr used up by aio-hog (serial: it
# would starve the other tests' kernel contexts).
add_executable(aio-hog aio-hog.c)
target_compile_definitions(aio-hog PRIVATE _GNU_SOURCE)
# Not with sanitizers: a server with a preloaded sanitizer runtime is a test
# of the runtime, and too slow for the suite.
if(NOT UAIO_TSAN AND NOT UAIO_SANITIZE)
  set(_uaio_mdb_engines ${UAIO_PROGRAM_ENGINES})
  if(SYSTEM_LIBAIO)
    list(APPEND _uaio_mdb_engines ref)
  endif()
  foreach(engine IN LISTS _uaio_mdb_engines)
    add_test(NAME mariadb.${engine}
      COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mariadb.sh
              $<TARGET_FILE_DIR:uaio> ${engine} ${UAIO_PROGRAM_PRELOAD})
    set_tests_properties(mariadb.${engine} PROPERTIES
      LABELS "${engine};programs;mariadb" SKIP_RETURN_CODE 77 TIMEOUT 180)
  endforeach()
  foreach(engine IN ITEMS auto ref)
    add_test(NAME mariadb.${engine}-aio-exhausted
      COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mariadb.sh
              $<TARGET_FILE_DIR:uaio> ${engine} ${UAIO_PROGRAM_PRELOAD} auto-exhausted)
    set_tests_properties(mariadb.${engine}-aio-exhausted PROPERTIES
      ENVIRONMENT "AIO_HOG=$<TARGET_FILE:aio-hog>"
      LABELS "programs;mariadb;fallback" SKIP_RETURN_CODE 77 TIMEOUT 180 RUN_SERIAL TRUE)
  endforeach()
endif()

# libaio's own test harness (Debian source package, make partcheck: 18
# cases) on every engine and the system libaio.  Serial: its case 20 uses
# up fs.aio-max-nr.
set(UAIO_LIBAIO_SRC ${PROJECT_SOURCE_DIR}/build-deps/libaio CACHE PATH
  "Unpacked libaio source for the harness test (scripts/deps.sh fetches it)")
if(NOT UAIO_SANITIZE AND NOT UAIO_TSAN)
  # auto included: it is what a program gets by default.
  foreach(engine IN LISTS _uaio_mdb_engines)
    add_test(NAME libaio-harness.${engine}
      COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/libaio-harness.sh
              $<TARGET_FILE_DIR:uaio> ${engine} ${UAIO_LIBAIO_SRC})
    set_tests_properties(libaio-harness.${engine} PROPERTIES
      LABELS "${engine};programs;harness" SKIP_RETURN_CODE 77 TIMEOUT 600
      RUN_SERIAL TRUE)
  endforeach()
endif()
