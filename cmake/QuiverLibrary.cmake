# quiver_library(NAME DIR dir SOURCES src... [DEPS lib...] [EXTERNAL target...])
#
# One library of quiver's layers: a static library of the sources of one
# folder, linking the quiver libraries it may use (DEPS) and external
# targets (EXTERNAL). Every such library is recorded for the layer check
# (cmake/check_layers.cmake), which refuses, at build time, an #include of
# a header from a folder whose library is not among DEPS (or theirs).
function(quiver_library name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "INTERFACE" "DIR" "SOURCES;DEPS;EXTERNAL")
  if(arg_INTERFACE)
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}> $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>)
    target_link_libraries(${name} INTERFACE ${arg_DEPS} ${arg_EXTERNAL})
  else()
    add_library(${name} STATIC ${arg_SOURCES})
    target_include_directories(${name} PUBLIC
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}> $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>)
    target_link_libraries(${name} PUBLIC ${arg_DEPS} ${arg_EXTERNAL})
  endif()
  file(RELATIVE_PATH dir ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  if(arg_DIR)
    set(dir ${arg_DIR})
  endif()
  string(REPLACE ";" "," deps "${arg_DEPS}")
  set_property(GLOBAL APPEND PROPERTY QUIVER_LAYERS "${name}|${dir}|${deps}")
endfunction()

# Adds the build-time layer check over every library declared so far.
function(quiver_layer_check)
  get_property(layers GLOBAL PROPERTY QUIVER_LAYERS)
  set(table ${PROJECT_BINARY_DIR}/quiver_layers.txt)
  string(REPLACE ";" "\n" text "${layers}")
  file(WRITE ${table}.new "${text}\n")
  file(COPY_FILE ${table}.new ${table} ONLY_IF_DIFFERENT)
  set(sources)
  foreach(layer ${layers})
    string(REPLACE "|" ";" fields "${layer}")
    list(GET fields 1 dir)
    file(GLOB found CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${dir}/*.h ${PROJECT_SOURCE_DIR}/${dir}/*.cc)
    list(APPEND sources ${found})
  endforeach()
  set(stamp ${PROJECT_BINARY_DIR}/quiver_layers.ok)
  add_custom_command(OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} -DROOT=${PROJECT_SOURCE_DIR} -DTABLE=${table} -DSTAMP=${stamp}
            -P ${PROJECT_SOURCE_DIR}/cmake/check_layers.cmake
    DEPENDS ${sources} ${table} ${PROJECT_SOURCE_DIR}/cmake/check_layers.cmake
    COMMENT "Checking that every #include stays within its library's layers")
  add_custom_target(quiver_layer_check ALL DEPENDS ${stamp})
endfunction()
