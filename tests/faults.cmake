# Faults that come from real file systems, on every engine and the
# reference, each compared with the kernel's own AIO: a FUSE file system
# of the tests' own (faultfs) failing, shortening or holding requests, a
# full tmpfs or ext4, the file size limit, and signal storms.  Label
# "faults".  Tests that mount need root (they skip otherwise).
find_package(PkgConfig REQUIRED)
pkg_check_modules(FUSE3 IMPORTED_TARGET fuse3)

# uaio_fault_test(NAME [FUSE] uaio_test arguments...)
function(uaio_fault_test name)
  cmake_parse_arguments(F "FUSE" "" "" ${ARGN})
  if(F_FUSE AND NOT TARGET faultfs)
    message(STATUS "libfuse3 not found: ${name} is not built")
    return()
  endif()
  uaio_test(${name} ${F_UNPARSED_ARGUMENTS} LABELS faults)
  foreach(t IN ITEMS ${name} ${name}-ref)
    if(TARGET ${t} AND F_FUSE)
      target_compile_definitions(${t} PRIVATE FAULTFS_PATH="$<TARGET_FILE:faultfs>")
      add_dependencies(${t} faultfs)
    endif()
  endforeach()
endfunction()

if(FUSE3_FOUND)
  add_executable(faultfs faultfs.c)
  target_link_libraries(faultfs PRIVATE PkgConfig::FUSE3)
endif()

uaio_fault_test(fault-fuse-read FUSE REF TIMEOUT 60)
uaio_fault_test(fault-fuse-write FUSE REF TIMEOUT 60)
uaio_fault_test(fault-fuse-eagain FUSE REF TIMEOUT 60)
uaio_fault_test(fault-fuse-hold FUSE REF TIMEOUT 60)
uaio_fault_test(fault-enospc REF TIMEOUT 60)
uaio_fault_test(fault-enospc-batch REF TIMEOUT 60)
uaio_fault_test(fault-efbig REF TIMEOUT 60)
uaio_fault_test(fault-sigxfsz REF TIMEOUT 60)
uaio_fault_test(fault-eintr-storm REF TIMEOUT 120)

# io_uring_enter failing for good: the test interposes liburing's
# io_uring_submit(), so the library's calls must find its definition.
if(UAIO_WITH_URING)
  uaio_fault_test(uring-enter-fails ENGINES uring auto TIMEOUT 60 LIBS dl)
  set_target_properties(uring-enter-fails PROPERTIES ENABLE_EXPORTS ON)
endif()
