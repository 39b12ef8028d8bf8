# A Debian package of the install tree: scripts/package configures with
# -DCMAKE_INSTALL_PREFIX=/usr -DPB_PACKAGE_DEB=ON and runs cpack -G DEB. The package installs
# files only: no maintainer script, so nothing is enabled or started on install.
option(PB_PACKAGE_DEB "Install the files a Debian package needs (copyright, changelog)" OFF)
set(PB_DEB_MAINTAINER "probebench maintainers <maintainers@probebench.example.org>" CACHE STRING
  "Maintainer field of the Debian package")

# The Debian version: each '-' of `git describe` becomes '+' (0.1.0-gabc1234-dirty ->
# 0.1.0+gabc1234+dirty), so there is no Debian revision, as for a native package.
string(REPLACE "-" "+" PB_DEB_VERSION "${PB_VERSION}")

if(PB_PACKAGE_DEB)
  string(TIMESTAMP pb_deb_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
  file(WRITE ${CMAKE_BINARY_DIR}/deb/changelog
    "probebench (${PB_DEB_VERSION}) unstable; urgency=medium\n\n"
    "  * Built from the source tree by scripts/package.\n\n"
    " -- ${PB_DEB_MAINTAINER}  ${pb_deb_date}\n")
  find_program(PB_GZIP gzip REQUIRED)
  execute_process(COMMAND ${PB_GZIP} -9nf ${CMAKE_BINARY_DIR}/deb/changelog COMMAND_ERROR_IS_FATAL ANY)
  install(FILES ${CMAKE_BINARY_DIR}/deb/changelog.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})
  install(FILES packaging/debian/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
endif()

set(CPACK_PACKAGE_NAME probebench)
set(CPACK_PACKAGE_VERSION ${PB_DEB_VERSION})
set(CPACK_PACKAGE_CONTACT ${PB_DEB_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "measures Linux driver probes by rebinding PCI devices")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "\
probebench enumerates PCI functions and the devices below them, unbinds and
rebinds their drivers through sysfs again and again, and records for every
probe how long it took, which CPU and task ran it and on which NUMA node its
memory landed. It is a command line tool (list, check, run, restore, compare)
and a systemd service with a JSON API and Prometheus metrics.
.
The systemd units are installed disabled; the service and the timed run start
only once a configuration is put in /etc/probebench.")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Depends from the libraries the binary links (dpkg-shlibdeps), so a new one is never missed.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The libraries the binary opens at their first use (src/lazy_libs.c), which dpkg-shlibdeps
# cannot see: their sonames there, their packages here.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libsystemd0, libmicrohttpd12, libkmod2")
# probebench-vm boots the NUMA test VM.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "qemu-system-x86, linux-image-amd64, busybox-static, cpio, kmod")
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/package)
include(CPack)
