# Installing and uninstalling uaio: headers, pkg-config file, documents, the
# `uninstall` target and a test that builds a program against the installed
# tree.  The library's own install rule is in src/CMakeLists.txt; the layout
# (UAIO_INSTALL_LIBDIR, UAIO_INSTALL_INCLUDEDIR) is chosen at the top level.

install(FILES
  ${PROJECT_SOURCE_DIR}/include/libaio.h
  ${PROJECT_SOURCE_DIR}/include/uaio.h
  DESTINATION ${UAIO_INSTALL_INCLUDEDIR})

install(FILES
  ${PROJECT_SOURCE_DIR}/README.md
  ${PROJECT_SOURCE_DIR}/CHANGELOG.md
  ${PROJECT_SOURCE_DIR}/examples/hello.c
  DESTINATION ${CMAKE_INSTALL_DOCDIR})

# uaio.pc.  The prefix is only known at install time (`cmake --install
# --prefix` overrides the configured one), so the file is configured twice:
# now for everything but the prefix, then by the install script.
function(uaio_pc_dir var dir)
  if(IS_ABSOLUTE "${dir}")
    set(${var} "${dir}" PARENT_SCOPE)
  else()
    set(${var} "\${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()
uaio_pc_dir(UAIO_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
uaio_pc_dir(UAIO_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
if(UAIO_INSTALL_AS_LIBAIO)
  set(UAIO_PC_CFLAGS "-I\${includedir}")
  set(UAIO_PC_LIBS "-L\${libdir} -laio")
else()
  # The run path lets programs find libaio.so.1 outside the loader's path.
  set(UAIO_PC_CFLAGS "-I\${includedir}/uaio")
  set(UAIO_PC_LIBS "-L\${libdir}/uaio -Wl,-rpath,\${libdir}/uaio -laio")
endif()
set(UAIO_PC_PREFIX "@UAIO_PC_PREFIX@")
configure_file(${CMAKE_CURRENT_LIST_DIR}/uaio.pc.in
  ${PROJECT_BINARY_DIR}/uaio.pc.in @ONLY)
install(CODE "
  set(UAIO_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${PROJECT_BINARY_DIR}/uaio.pc.in\"
    \"${PROJECT_BINARY_DIR}/uaio.pc\" @ONLY)
")
install(FILES ${PROJECT_BINARY_DIR}/uaio.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# `cmake --build BUILD --target uninstall` removes what the last install from
# this build tree put in place (install_manifest.txt), under $DESTDIR if set.
if(NOT TARGET uninstall)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/uninstall.cmake.in
    ${PROJECT_BINARY_DIR}/cmake_uninstall.cmake @ONLY)
  add_custom_target(uninstall
    COMMAND ${CMAKE_COMMAND} -P ${PROJECT_BINARY_DIR}/cmake_uninstall.cmake
    COMMENT "Removing the files listed in install_manifest.txt"
    VERBATIM)
endif()

if(BUILD_TESTING)
  # The example is compiled like the library, sanitizers included, or it
  # would not link against a sanitized libaio.so.1.
  set(UAIO_EXAMPLE_CFLAGS "")
  if(UAIO_SANITIZE)
    set(UAIO_EXAMPLE_CFLAGS "-fsanitize=address,undefined")
  elseif(UAIO_TSAN)
    set(UAIO_EXAMPLE_CFLAGS "-fsanitize=thread")
  endif()
  if(UAIO_INSTALL_AS_LIBAIO)
    set(UAIO_LAYOUT libaio)
  else()
    set(UAIO_LAYOUT uaio)
  endif()
  add_test(NAME install-hello
    COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/install-test.sh
      ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR}
      ${CMAKE_INSTALL_BINDIR} ${CMAKE_INSTALL_LIBDIR} ${CMAKE_INSTALL_INCLUDEDIR}
      ${CMAKE_INSTALL_MANDIR} ${UAIO_LAYOUT}
      ${CMAKE_C_COMPILER} ${PKG_CONFIG_EXECUTABLE} "${UAIO_EXAMPLE_CFLAGS}")
  # It rewrites the build tree's install_manifest.txt (and restores it).
  set_tests_properties(install-hello PROPERTIES
    LABELS install SKIP_RETURN_CODE 77 TIMEOUT 300
    ENVIRONMENT "CMAKE=${CMAKE_COMMAND}"
    RESOURCE_LOCK uaio_install_manifest)
endif()
