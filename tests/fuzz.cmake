# The differential fuzzer (tests/fuzz/): the same AIO calls on an emulated
# engine and on the kernel engine, every result compared.  libFuzzer needs
# clang: scripts/fuzz.sh configures build-fuzz/ with CC=clang-14 and
# -DUAIO_FUZZ=ON.  The library's sources are compiled into the fuzzer,
# instrumented, so that coverage reaches them.
option(UAIO_FUZZ "Build the differential fuzzer (needs clang and libFuzzer)" OFF)

if(UAIO_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "UAIO_FUZZ needs clang for libFuzzer (CC=clang-14)")
  endif()
  if(NOT UAIO_WITH_URING)
    message(FATAL_ERROR "UAIO_FUZZ needs liburing: the uring engine is one of those compared")
  endif()
  set(UAIO_FUZZ_SANITIZE -fsanitize=address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer)

  file(GLOB uaio_fuzz_lib_sources ${PROJECT_SOURCE_DIR}/src/*.c)
  add_library(uaio_fuzz_lib OBJECT ${uaio_fuzz_lib_sources})
  target_compile_definitions(uaio_fuzz_lib PRIVATE
    _GNU_SOURCE UAIO_VERSION_STRING="${PROJECT_VERSION}" UAIO_HAVE_URING=1)
  target_include_directories(uaio_fuzz_lib PRIVATE
    ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(uaio_fuzz_lib PRIVATE
    -fsanitize=fuzzer-no-link ${UAIO_FUZZ_SANITIZE})

  add_executable(fuzz-diff fuzz/fuzz-diff.c fuzz/fuzz-world.c
    $<TARGET_OBJECTS:uaio_fuzz_lib>)
  target_compile_definitions(fuzz-diff PRIVATE _GNU_SOURCE)
  target_include_directories(fuzz-diff PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_compile_options(fuzz-diff PRIVATE -fsanitize=fuzzer ${UAIO_FUZZ_SANITIZE})
  target_link_options(fuzz-diff PRIVATE -fsanitize=fuzzer ${UAIO_FUZZ_SANITIZE})
  target_link_libraries(fuzz-diff PRIVATE PkgConfig::URING Threads::Threads)

  # Replaying the committed corpus, once per emulated engine.  The files
  # the fuzzer makes (O_DIRECT among them) go to a real file system.
  set(UAIO_FUZZ_TMPDIR ${CMAKE_CURRENT_BINARY_DIR}/fuzz-tmp)
  file(MAKE_DIRECTORY ${UAIO_FUZZ_TMPDIR})
  foreach(engine IN ITEMS uring threads auto)
    add_test(NAME fuzz-diff.${engine}
      COMMAND fuzz-diff -runs=0 -timeout=60 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus)
    set_tests_properties(fuzz-diff.${engine} PROPERTIES
      ENVIRONMENT "FUZZ_ENGINE=${engine};FUZZ_TMPDIR=${UAIO_FUZZ_TMPDIR}"
      LABELS "fuzz;${engine}" TIMEOUT 300)
  endforeach()
endif()
