# The codec and archive libraries the core links: libsndfile (decode), libFLAC (encode), libsoxr
# (resampling), libzip + libdeflate (zip inputs). Each becomes an imported target cadence::<name>,
# from one of two places:
#   CADENCE_SYSTEM_LIBS=ON   the system's, through pkg-config (Debian's -dev packages; `make`'s
#                            dev builds, quick to configure)
#   CADENCE_SYSTEM_LIBS=OFF  the pinned sources in vendor/, built static with PIC once into
#                            CADENCE_VENDOR_DIR/<key> (wheels and sdists: no apt needed)
# The FFT (pocketfft) and the SoundFont renderer (TinySoundFont), header-only, are vendored in both
# cases.
option(CADENCE_SYSTEM_LIBS "Link the system's libsndfile, libFLAC, libsoxr, libzip and libdeflate (pkg-config) instead of building the vendored sources" OFF)
set(CADENCE_VENDOR_DIR "${CMAKE_BINARY_DIR}/vendor" CACHE PATH
    "Where the vendored libraries are built; one folder per source/compiler key, reused across builds")

add_library(cadence_pocketfft INTERFACE)
target_include_directories(cadence_pocketfft SYSTEM INTERFACE ${PROJECT_SOURCE_DIR}/vendor/pocketfft)
# TinySoundFont (single header, MIT): the sample corpus's renderer, in every build too.
add_library(cadence_tsf INTERFACE)
target_include_directories(cadence_tsf SYSTEM INTERFACE ${PROJECT_SOURCE_DIR}/vendor/tsf)

if(CADENCE_SYSTEM_LIBS)
  find_package(PkgConfig REQUIRED)
  foreach(pair "sndfile;sndfile" "flac;flac" "soxr;soxr" "zip;libzip" "deflate;libdeflate")
    list(GET pair 0 name)
    list(GET pair 1 module)
    pkg_check_modules(CADENCE_PC_${name} REQUIRED IMPORTED_TARGET ${module})
    add_library(cadence::${name} ALIAS PkgConfig::CADENCE_PC_${name})
  endforeach()
  set(CADENCE_NATIVE_LIBS_ORIGIN "system")
  return()
endif()

# The key changes when a source, the recipe or the compiler does, so a stale build is never reused.
file(GLOB _vendor_inputs ${PROJECT_SOURCE_DIR}/vendor/sources/* ${PROJECT_SOURCE_DIR}/vendor/CMakeLists.txt)
list(SORT _vendor_inputs)
set(_key_text "${CMAKE_C_COMPILER_ID}-${CMAKE_C_COMPILER_VERSION}-${CMAKE_CXX_COMPILER}")
foreach(f ${_vendor_inputs})
  file(SHA256 ${f} _h)
  string(APPEND _key_text ";${_h}")
endforeach()
string(SHA256 _key "${_key_text}")
string(SUBSTRING ${_key} 0 16 _key)
set(_root "${CADENCE_VENDOR_DIR}/${_key}")
set(_prefix "${_root}/prefix")

file(MAKE_DIRECTORY ${CADENCE_VENDOR_DIR})
file(LOCK ${CADENCE_VENDOR_DIR}/.lock GUARD FILE TIMEOUT 3600)  # two builds sharing the folder
if(NOT EXISTS ${_root}/done)
  message(STATUS "Building the vendored libraries into ${_root} (once; a few minutes)")
  execute_process(
    COMMAND ${CMAKE_COMMAND} -S ${PROJECT_SOURCE_DIR}/vendor -B ${_root}/build -G ${CMAKE_GENERATOR}
            -DCADENCE_VENDOR_PREFIX=${_prefix}
            -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER} -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
            -DCMAKE_MAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  if(_rc EQUAL 0)
    execute_process(COMMAND ${CMAKE_COMMAND} --build ${_root}/build
                    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  endif()
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "building the vendored libraries failed (logs under ${_root}/build):\n${_out}\n"
                        "To use the system's instead, configure with -DCADENCE_SYSTEM_LIBS=ON.")
  endif()
  file(TOUCH ${_root}/done)
endif()
file(LOCK ${CADENCE_VENDOR_DIR}/.lock RELEASE)

function(_cadence_vendored name)  # name, then archives in link order (dependencies last)
  add_library(cadence::${name} INTERFACE IMPORTED GLOBAL)
  set(_libs)
  foreach(a ${ARGN})
    list(APPEND _libs ${_prefix}/lib/lib${a}.a)
  endforeach()
  set_target_properties(cadence::${name} PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES ${_prefix}/include
    INTERFACE_LINK_LIBRARIES "${_libs};m")
endfunction()
_cadence_vendored(sndfile sndfile FLAC vorbisenc vorbis opus ogg)
_cadence_vendored(flac FLAC ogg)
_cadence_vendored(soxr soxr)
_cadence_vendored(zip zip z)
_cadence_vendored(deflate deflate)
# FLAC's headers declare its functions dllimport-free only when told they are a static build.
target_compile_definitions(cadence::flac INTERFACE FLAC__NO_DLL)
set(CADENCE_NATIVE_LIBS_ORIGIN "vendored")
