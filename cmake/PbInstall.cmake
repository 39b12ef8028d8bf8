# What `cmake --install` puts where (GNUInstallDirs; CMAKE_INSTALL_PREFIX=/usr for a system
# package): the binary and probebench-vm, the systemd units, man pages, bash completion,
# schemas, docs and the example configurations.

# systemd's own unit directory (pkg-config systemd, systemdsystemunitdir: /lib/systemd/system
# on Debian 12), whatever the prefix, so the units are where systemd looks.
pkg_get_variable(PB_PC_UNITDIR systemd systemdsystemunitdir)
if(NOT PB_PC_UNITDIR)
  set(PB_PC_UNITDIR ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()
set(PB_SYSTEMD_UNITDIR ${PB_PC_UNITDIR} CACHE PATH "Where the systemd units are installed")
# bash-completion's directory for completions loaded on demand.
pkg_get_variable(PB_PC_COMPLETIONSDIR bash-completion completionsdir)
if(NOT PB_PC_COMPLETIONSDIR)
  set(PB_PC_COMPLETIONSDIR ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
endif()
set(PB_BASH_COMPLETIONSDIR ${PB_PC_COMPLETIONSDIR} CACHE PATH
  "Where the bash completion is installed")

install(TARGETS probebench DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS scripts/probebench-vm DESTINATION ${CMAKE_INSTALL_BINDIR})

# The units name the installed binary and docs. In the build tree (units/, for the tests) they
# name this configuration's directories; the installed ones are written again at install time,
# so that `cmake --install --prefix DIR` gets units that name DIR.
file(GLOB PB_UNIT_TEMPLATES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/units/*.in)
foreach(t ${PB_UNIT_TEMPLATES})
  get_filename_component(name ${t} NAME)
  string(REGEX REPLACE "\\.in$" "" name ${name})
  configure_file(${t} ${CMAKE_BINARY_DIR}/units/${name} @ONLY)
  install(CODE "
    set(pb_bindir \"${CMAKE_INSTALL_BINDIR}\")
    set(pb_docdir \"${CMAKE_INSTALL_DOCDIR}\")
    foreach(v bindir docdir)
      if(NOT IS_ABSOLUTE \"\${pb_\${v}}\")
        set(pb_\${v} \"\${CMAKE_INSTALL_PREFIX}/\${pb_\${v}}\")
      endif()
    endforeach()
    set(CMAKE_INSTALL_FULL_BINDIR \"\${pb_bindir}\")
    set(CMAKE_INSTALL_FULL_DOCDIR \"\${pb_docdir}\")
    configure_file(\"${t}\" \"${CMAKE_BINARY_DIR}/units-install/${name}\" @ONLY)")
  install(FILES ${CMAKE_BINARY_DIR}/units-install/${name} DESTINATION ${PB_SYSTEMD_UNITDIR})
endforeach()

install(DIRECTORY schema/ DESTINATION ${CMAKE_INSTALL_DATADIR}/probebench/schema)
install(DIRECTORY doc/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md"
  PATTERN man EXCLUDE)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# Examples only: the daemon and the timed run start from a file the administrator puts in
# /etc/probebench (probebench.json, run.conf); nothing is cycled until then.
install(FILES examples/probebench.json examples/run.conf DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
# The fleet files (doc/fleet.md): Prometheus configuration and rules, the Grafana dashboard.
install(DIRECTORY contrib/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/contrib)
install(FILES completion/probebench.bash DESTINATION ${PB_BASH_COMPLETIONSDIR} RENAME probebench)
install(FILES completion/probebench.bash DESTINATION ${PB_BASH_COMPLETIONSDIR} RENAME probebench-vm)

# Man pages from their scdoc sources (doc/man/NAME.SECTION.scd), gzip'd as Debian wants them.
find_program(PB_SCDOC scdoc)
find_program(PB_GZIP gzip)
file(GLOB PB_MAN_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/doc/man/*.scd)
if(PB_SCDOC AND PB_GZIP)
  set(pb_man_outputs "")
  foreach(src ${PB_MAN_SOURCES})
    get_filename_component(page ${src} NAME)
    string(REGEX REPLACE "\\.scd$" "" page ${page})
    string(REGEX REPLACE "^.*\\.([0-9])$" "\\1" section ${page})
    set(out ${CMAKE_BINARY_DIR}/man/${page}.gz)
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
      COMMAND sh -c "'${PB_SCDOC}' <'${src}' | '${PB_GZIP}' -9n >'${out}.tmp' && mv '${out}.tmp' '${out}'"
      DEPENDS ${src} VERBATIM COMMENT "Man page ${page}")
    list(APPEND pb_man_outputs ${out})
    install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(man ALL DEPENDS ${pb_man_outputs})
else()
  message(WARNING "scdoc or gzip not found: man pages are not built (scripts/install-deps installs scdoc)")
endif()
