# APFS for the disk module: libyal's libfsapfs 20201107, compiled to wasm32-wasi the way
# disk-containers.sh compiles the container libraries (its own configure run for the wasm target,
# every bundled support library renamed with the package's prefix so its libcerror/libbfio/...
# do not clash with libewf's, libvmdk's, libvhdi's and libqcow's copies), with their zlib.
#
# Sourced by scripts/formats/disk.sh after disk-containers.sh (it uses container_rename_header,
# container_host and the zlib in $cprefix):
#   fetch_pypi_source libfsapfs-python 20201107 "$apfs_sha256"
#   aprefix=$(cached_prefix disk-apfs "..." build_apfs_lib scripts/formats/disk-apfs.sh)
#   $CC $(cat "$aprefix/apfs.flags") -c Guests/Formats/disk/apfs.c ...; ... -ldiskapfs
#
# The source: Debian bookworm's libfsapfs 20201107-1 (.dsc sha256
# d85624afcbc8ae0cf7a8814c1ab382a3ff70e08c639e2bdd8b00ed53ea8ebc5b, orig.tar.gz sha256
# dc0543b86779a3c0b46913d780a9fd7fdb7af86e1fea61c54f0d1d0209a18f15) is the version meant, but the
# package mirror this project builds from does not serve its tarballs (404, as for sleuthkit), so
# the same upstream release is taken from libyal's own PyPI sdist libfsapfs-python 20201107, which
# carries the whole library and its bundled support libraries; it is pinned by its sha256.
#
# Left out: threads (libcthreads configured out), OpenSSL (libcaes and libhmac use their own code;
# nothing is decrypted anyway: the module records an encrypted volume and does not unlock it), FUSE,
# the tools and the Python bindings.

apfs_sha256=fdd4b0a34602038b396c11c0642fc4647b3b4d364706cd2f61ad181fe0ca0001
apfs_src=$src/libfsapfs-python-20201107

# The bundled support libraries libfsapfs links (its Makefile.am's LIBADD, without libcthreads).
apfs_support_libs="libcerror libcdata libclocale libcnotify libcsplit libuna libcfile libcpath libbfio libfcache libfdata libfdatetime libfguid libhmac libcaes"

# Three fixes to libfsapfs 20201107, all seen on the macOS-made images the tests read:
#  - the object map: an object has one entry per version (transaction id), and the live file system
#    is the newest version; 20201107 returns the first, oldest entry, so on a volume with snapshots
#    it reads a folder as it was when the oldest snapshot was taken (snapshot.bin's .fseventsd: 1
#    file where there are 1025). Now the newest entry is returned (in a leaf, the last entry with
#    that identifier; in an index node, the last child whose first key is not past it).
#  - an inode's times: Apple's j_inode_val_t holds create_time and then mod_time; 20201107 names the
#    two fields the other way round, so every creation time was the modification time and back.
#  - snapshots: 20201107 looks the snapshot metadata tree's nodes up in the object map, but that
#    tree is physical, so a volume with snapshots fails to open at all ("unable to retrieve
#    snapshots"). The module reads only the live file system, never a snapshot: the list is left
#    empty instead and the volume opens.
apfs_patch() {  # build-dir
  patch -s -p1 -d "$1" <<'PATCH'
--- a/libfsapfs/libfsapfs_object_map_btree.c
+++ b/libfsapfs/libfsapfs_object_map_btree.c
@@ -816,6 +816,7 @@
 	static char *function                   = "libfsapfs_object_map_btree_get_entry_from_node_by_identifier";
 	uint64_t object_map_identifier          = 0;
 	int btree_entry_index                   = 0;
+	int found                               = 0;
 	int is_leaf_node                        = 0;
 	int number_of_entries                   = 0;
 
@@ -957,23 +958,11 @@
 			if( object_map_identifier == object_identifier )
 			{
 				*btree_entry = entry;
-
-				return( 1 );
+				found        = 1;
 			}
 		}
 		else
 		{
-			if( object_map_identifier >= object_identifier )
-			{
-				if( ( previous_entry == NULL )
-				 || ( object_map_identifier == object_identifier ) )
-				{
-					previous_entry = entry;
-				}
-				*btree_entry = previous_entry;
-
-				return( 1 );
-			}
 			previous_entry = entry;
 		}
 	}
@@ -983,7 +972,7 @@
 
 		return( 1 );
 	}
-	return( 0 );
+	return( found );
 }
 
 /* Retrieves an entry for a specific identifier from the object map B-tree
--- a/libfsapfs/fsapfs_file_system.h
+++ b/libfsapfs/fsapfs_file_system.h
@@ -221,15 +221,15 @@
 	 */
 	uint8_t data_stream_identifier[ 8 ];
 
-	/* The modification date and time
+	/* The creation date and time
 	 * Consists of 8 bytes
 	 */
-	uint8_t modification_time[ 8 ];
+	uint8_t creation_time[ 8 ];
 
-	/* The creation date and time
+	/* The modification date and time
 	 * Consists of 8 bytes
 	 */
-	uint8_t creation_time[ 8 ];
+	uint8_t modification_time[ 8 ];
 
 	/* The inode change date and time
 	 * Consists of 8 bytes
--- a/libfsapfs/libfsapfs_volume.c
+++ b/libfsapfs/libfsapfs_volume.c
@@ -728,14 +728,16 @@
 		     internal_volume->snapshots,
 		     error ) == -1 )
 		{
-			libcerror_error_set(
-			 error,
-			 LIBCERROR_ERROR_DOMAIN_RUNTIME,
-			 LIBCERROR_RUNTIME_ERROR_GET_FAILED,
-			 "%s: unable to retrieve snapshots.",
-			 function );
+			libcerror_error_free(
+			 error );
 
-			goto on_error;
+			if( libcdata_array_empty(
+			     internal_volume->snapshots,
+			     (int (*)(intptr_t **, libcerror_error_t **)) &libfsapfs_snapshot_metadata_free,
+			     error ) != 1 )
+			{
+				goto on_error;
+			}
 		}
 	}
 	if( internal_volume->superblock->file_system_root_object_identifier == 0 )
PATCH
}

build_apfs_lib() {
  local here; here=$(pwd)
  local build=$obj/libfsapfs d
  echo "formats: libfsapfs (configure)"
  # In a copy: the sdist, like the Debian tarballs, ships a maintainer's common/config.h.
  rm -rf "$build"; mkdir -p "$build"; cp -a "$apfs_src/." "$build/"
  # configure's zlib check links -lz: the containers' zlib under that name.
  mkdir -p "$obj/zlib"; cp "$cprefix/lib/libdiskcontainers_z.a" "$obj/zlib/libz.a"
  apfs_patch "$build"
  libyal_configure "$build" libfsapfs "-I$cprefix/include" "-L$obj/zlib"
  grep -q "define HAVE_ZLIB 1" "$build/common/config.h" \
    || { echo "formats: libfsapfs's configure did not find zlib" >&2; exit 1; }
  container_rename_header "$build" libfsapfs "$build/rename-libfsapfs.h" $apfs_support_libs
  local flags="-DHAVE_CONFIG_H -include $build/rename-libfsapfs.h -I$build/common -I$build/include -I$cprefix/include"
  for d in libfsapfs $apfs_support_libs; do flags="$flags -I$build/$d"; done
  flags="$flags '-DLOCALEDIR=\"/nonexistent\"'"
  echo "formats: libfsapfs (compile)"
  lib diskapfs "$flags" $(for d in libfsapfs $apfs_support_libs; do ls "$build/$d"/*.c; done)
  # The headers the module's glue (Guests/Formats/disk/apfs.c) is compiled against, and its flags:
  # it calls libfsapfs's internals and its renamed libbfio, so it needs the same configuration.
  mkdir -p "$prefix/apfs"
  for d in common include libfsapfs $apfs_support_libs; do
    mkdir -p "$prefix/apfs/$d"; cp "$build/$d"/*.h "$prefix/apfs/$d/"
    [ -d "$build/$d/$d" ] && cp -r "$build/$d/$d" "$prefix/apfs/$d/" || true
  done
  [ -d "$build/include/libfsapfs" ] && cp -r "$build/include/libfsapfs" "$prefix/apfs/include/" || true
  cp "$build/rename-libfsapfs.h" "$prefix/apfs/"
  flags="-DHAVE_CONFIG_H -include $prefix/apfs/rename-libfsapfs.h -I$prefix/apfs/common -I$prefix/apfs/include -I$cprefix/include"
  for d in libfsapfs $apfs_support_libs; do flags="$flags -I$prefix/apfs/$d"; done
  # The cache folder is renamed into place when the build ends: name it by its final path.
  echo "$flags" | sed "s#$prefix#${prefix%.partial}#g" > "$prefix/apfs.flags"
}
