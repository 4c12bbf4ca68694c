/* SPDX-License-Identifier: GPL-2.0 */
/*
 * version.h - the one version string of the three programs.
 *
 * The Makefile passes -DMAILEDGE_VERSION from debian/changelog, so the package
 * and --version can never disagree; the fallback serves builds without it
 * (the fuzz targets).
 */
#ifndef ME_VERSION_H
#define ME_VERSION_H

#ifndef MAILEDGE_VERSION
#define MAILEDGE_VERSION "unknown"
#endif

#endif
