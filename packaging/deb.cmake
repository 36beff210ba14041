# Debian packages (CPack DEB) for amd64, arm64 and armhf: `cpack -G DEB` in a build folder
# (native, aarch64 or armhf preset) makes depot-agent_<version>_<arch>.deb holding
#   /usr/bin/depot-agent                       stripped
#   /usr/lib/systemd/system/depot-agent.service
#   /usr/lib/sysusers.d/depot-agent.conf       the system user, created by postinst
#   /etc/depot-agent/agent.json                default config, a conffile (edits survive upgrades)
#   /usr/share/doc/depot-agent/                README, operations, config reference
# Installing never enables or starts the service: an operator configures it first
# (docs/operations.md). tests/packaging/deb_test.sh checks the result.
# The config's destination is absolute (/etc whatever the prefix): for a staged
# `cmake --install`, set DESTDIR.
include(GNUInstallDirs)

install(FILES ${PROJECT_SOURCE_DIR}/systemd/depot-agent.service
        DESTINATION lib/systemd/system)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/deb/sysusers.conf
        DESTINATION lib/sysusers.d RENAME depot-agent.conf)
install(FILES ${PROJECT_SOURCE_DIR}/config/agent.json
        DESTINATION /etc/depot-agent PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/operations.md
        DESTINATION share/doc/depot-agent)
install(FILES ${PROJECT_SOURCE_DIR}/config/README.md
        DESTINATION share/doc/depot-agent RENAME config-reference.md)
# The example alarm hooks (docs/coldchain.md, "Example hooks"): executable, for an operator to
# copy to /usr/local/bin and adapt; nothing runs them unless the config names them.
install(PROGRAMS ${PROJECT_SOURCE_DIR}/config/examples/hooks/alarm-sms-smstools
                 ${PROJECT_SOURCE_DIR}/config/examples/hooks/alarm-mail-msmtp
                 ${PROJECT_SOURCE_DIR}/config/examples/hooks/alarm-gpio-buzzer
        DESTINATION share/doc/depot-agent/examples/hooks)

# Debian architecture names for the target, not the build machine.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(depot_deb_arch arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
  set(depot_deb_arch armhf)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(depot_deb_arch amd64)
else()
  set(depot_deb_arch ${CMAKE_SYSTEM_PROCESSOR})
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME depot-agent)
set(CPACK_PACKAGE_VENDOR "depot-agent project")
set(CPACK_PACKAGE_CONTACT "depot-agent maintainers <depot-agent@invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "warehouse gateway agent: scanners, stock ledger, cloud sync")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${depot_deb_arch})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Shared libraries as Debian 12 names them (listed by hand, alike for every architecture, so
# a cross build needs no dpkg-shlibdeps). tests/packaging/deb_test.sh checks this list against
# the binary's NEEDED entries.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6 (>= 2.36), libstdc++6 (>= 12), libgcc-s1, \
libsqlite3-0 (>= 3.40), libpaho-mqttpp3-1 (>= 1.2), libpaho-mqtt1.3 (>= 1.3), libssl3 (>= 3.0), \
libmodbus5 (>= 3.1), libsodium23 (>= 1.0.18), \
adduser | systemd (>= 252)")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/deb/conffiles ${CMAKE_CURRENT_LIST_DIR}/deb/postinst
    ${CMAKE_CURRENT_LIST_DIR}/deb/prerm ${CMAKE_CURRENT_LIST_DIR}/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
