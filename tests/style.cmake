# Source style: the project's .clang-format holds for every C file.
add_test(NAME style-format
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/check-format.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(style-format PROPERTIES
  LABELS docs SKIP_RETURN_CODE 77 TIMEOUT 120)
