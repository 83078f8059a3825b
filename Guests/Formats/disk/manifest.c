/*
 * disk's manifest: containers, volume systems and file systems by their signatures, and disk
 * image names. An ISO 9660 image is archive's (one owner for a format): disk reads one inside a
 * disk, or under a raw image's name (`dd` of a CD: cdrom.img).
 */
#include "wadup.h"

WADUP_MANIFEST(
  "{\"version\": 1, \"role\": \"analyze\", \"accepts\": {"
  "\"names\": [\"*.e01\", \"*.ex01\", \"*.vmdk\", \"*.vhd\", \"*.vhdx\", \"*.qcow\", \"*.qcow2\", \"*.dd\", \"*.raw\", \"*.img\", \"*.001\", \"*.dmg\"],"
  "\"magic\": ["
  "{\"offset\": 0, \"hex\": \"455646090d0aff00\"},"                /* EWF (E01) */
  "{\"offset\": 0, \"hex\": \"455646320d0a8100\"},"                /* EWF2 (Ex01) */
  "{\"offset\": 0, \"hex\": \"4b444d56\"},"                        /* VMDK sparse */
  "{\"offset\": 0, \"hex\": \"23204469736b2044657363726970746f7246696c65\"}," /* VMDK descriptor */
  "{\"offset\": 0, \"hex\": \"636f6e6563746978\"}, {\"offset\": -512, \"hex\": \"636f6e6563746978\"}," /* VHD */
  "{\"offset\": 0, \"hex\": \"7668647866696c65\"},"                /* VHDX */
  "{\"offset\": 0, \"hex\": \"514649fb\"},"                        /* QCOW */
  "{\"offset\": 510, \"hex\": \"55aa\"},"                          /* MBR, FAT, NTFS, exFAT boot sectors */
  "{\"offset\": 512, \"hex\": \"4546492050415254\"},"              /* GPT */
  "{\"offset\": 1080, \"hex\": \"53ef\"},"                         /* ext2/3/4 */
  "{\"offset\": 1024, \"hex\": \"482b\"}, {\"offset\": 1024, \"hex\": \"4858\"}," /* HFS+, HFSX */
  "{\"offset\": 0, \"hex\": \"4552\"},"                            /* Apple Partition Map (driver descriptor) */
  "{\"offset\": 9564, \"hex\": \"54190100\"}, {\"offset\": 66908, \"hex\": \"19015419\"}," /* UFS1, UFS2 */
  "{\"offset\": 32, \"hex\": \"4e585342\"},"                       /* APFS container superblock (NXSB) */
  "{\"offset\": 3, \"hex\": \"2d4656452d46532d\"},"                /* BitLocker */
  "{\"offset\": 0, \"hex\": \"4c554b53babe\"}"                     /* LUKS */
  "]}}");
