# `cmake --install`: headers, libraries, a CMake package with components and a pkg-config file
# per library.
#   find_package(diffevent 0.1 REQUIRED COMPONENTS events)     -> diffevent::events (no LibTorch)
#   find_package(diffevent 0.1 REQUIRED COMPONENTS diffevent)  -> diffevent::diffevent (LibTorch)
#   find_package(diffevent 0.1 REQUIRED COMPONENTS c)          -> diffevent::c (C API, shared)
# Without COMPONENTS: every component this install has. pkg-config: diffevent (events, a static
# archive; `--libs` with or without --static),
# diffevent-c (the C API).
include(CMakePackageConfigHelpers)
# The pkg-config files find the prefix relative to themselves, so a prefix can be moved.
file(RELATIVE_PATH DIFFEVENT_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
set(_cmakedir ${CMAKE_INSTALL_LIBDIR}/cmake/diffevent)
set(_dest LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(TARGETS diffevent_events EXPORT diffeventEventsTargets ${_dest})
install(EXPORT diffeventEventsTargets NAMESPACE diffevent:: FILE diffeventEventsTargets.cmake DESTINATION ${_cmakedir})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/diffevent DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/diffevent/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/diffevent)
set(DIFFEVENT_COMPONENTS events)

if(TARGET diffevent_torch)
  set(_torch_targets diffevent_torch)
  if(DIFFEVENT_CUDA)
    list(APPEND _torch_targets diffevent_cuda_kernels)  # linked into diffevent_torch
  endif()
  install(TARGETS ${_torch_targets} EXPORT diffeventDiffeventTargets ${_dest})
  install(EXPORT diffeventDiffeventTargets NAMESPACE diffevent:: FILE diffeventDiffeventTargets.cmake
          DESTINATION ${_cmakedir})
  list(APPEND DIFFEVENT_COMPONENTS diffevent)
endif()

if(TARGET diffevent_c)
  install(TARGETS diffevent_c EXPORT diffeventCTargets ${_dest})
  if(TARGET diffevent_c_torch)
    # The C API's LibTorch plugin, loaded by the library from its own directory on first use.
    install(TARGETS diffevent_c_torch LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  endif()
  install(EXPORT diffeventCTargets NAMESPACE diffevent:: FILE diffeventCTargets.cmake DESTINATION ${_cmakedir})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/capi/include/diffevent DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  list(APPEND DIFFEVENT_COMPONENTS c)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/diffevent-c.pc.in ${PROJECT_BINARY_DIR}/diffevent-c.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/diffevent-c.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
  # The bindings over the C API, as sources to build against this install:
  #   pip install PREFIX/share/diffevent/python/diffevent-VERSION-py3-none-any.whl
  #                                               (finds this install's library; nothing to build)
  #   go: replace github.com/diffevent/diffevent/bindings/go => PREFIX/share/diffevent/go
  #   cargo: diffevent = { path = "PREFIX/share/diffevent/rust" }
  # Go and Rust find the library through pkg-config (PKG_CONFIG_PATH=PREFIX/lib/pkgconfig).
  option(DIFFEVENT_INSTALL_BINDINGS "Install the Python, Go and Rust bindings' sources" ON)
  if(DIFFEVENT_INSTALL_BINDINGS)
    set(_bindings ${CMAKE_INSTALL_DATADIR}/diffevent)
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/bindings/python/ DESTINATION ${_bindings}/python
            PATTERN __pycache__ EXCLUDE PATTERN "*.pyc" EXCLUDE PATTERN "*.egg-info" EXCLUDE PATTERN build EXCLUDE
            PATTERN _install.py EXCLUDE)
    find_package(Python3 COMPONENTS Interpreter QUIET)
    install(CODE "set(DIFFEVENT_PY_PACKAGE_DIR \"${_bindings}/python/diffevent\")
                  set(DIFFEVENT_PY_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
                  set(DIFFEVENT_PY_INTERPRETER \"${Python3_EXECUTABLE}\")
                  set(DIFFEVENT_PY_WHEEL_SCRIPT \"${PROJECT_SOURCE_DIR}/cmake/make_wheel.py\")
                  set(DIFFEVENT_PY_VERSION \"${PROJECT_VERSION}\")")
    install(SCRIPT ${PROJECT_SOURCE_DIR}/cmake/DiffeventPythonInstall.cmake)
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/bindings/go/ DESTINATION ${_bindings}/go)
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/bindings/rust/ DESTINATION ${_bindings}/rust PATTERN target EXCLUDE)
  endif()
endif()

# The event library is installed as a static archive only, so what it links is part of what its
# users link: the pkg-config file lists those packages under Requires (found by name, never by
# this machine's paths), and `pkg-config --libs diffevent` works with and without --static.
set(DIFFEVENT_PC_REQUIRES "fmt")
foreach(dep ZLIB:zlib PNG:libpng LZ4:liblz4 ZSTD:libzstd HDF5:hdf5)
  string(REPLACE ":" ";" dep ${dep})
  list(GET dep 0 var)
  list(GET dep 1 pc)
  if(DIFFEVENT_USED_${var})
    string(APPEND DIFFEVENT_PC_REQUIRES " ${pc}")
  endif()
endforeach()

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/diffeventConfig.cmake.in
  ${PROJECT_BINARY_DIR}/diffeventConfig.cmake INSTALL_DESTINATION ${_cmakedir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/diffeventConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/diffeventConfig.cmake ${PROJECT_BINARY_DIR}/diffeventConfigVersion.cmake
  DESTINATION ${_cmakedir})
configure_file(${PROJECT_SOURCE_DIR}/cmake/diffevent.pc.in ${PROJECT_BINARY_DIR}/diffevent.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/diffevent.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
