include(CMakePackageConfigHelpers)
set(DIFFEVENT_INSTALL_TARGETS diffevent_events)
if(TARGET diffevent_torch)
  list(APPEND DIFFEVENT_INSTALL_TARGETS diffevent_torch)
endif()
install(TARGETS ${DIFFEVENT_INSTALL_TARGETS} EXPORT diffeventTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/diffevent DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/diffevent/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/diffevent)
install(EXPORT diffeventTargets NAMESPACE diffevent:: FILE diffeventTargets.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/diffevent)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/diffeventConfig.cmake.in
  ${PROJECT_BINARY_DIR}/diffeventConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/diffevent)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/diffeventConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/diffeventConfig.cmake ${PROJECT_BINARY_DIR}/diffeventConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/diffevent)
configure_file(${PROJECT_SOURCE_DIR}/cmake/diffevent.pc.in ${PROJECT_BINARY_DIR}/diffevent.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/diffevent.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
