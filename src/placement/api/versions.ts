/**
 * The microversions Stratus placement implements: all of 1.0 - 1.39
 * (placement/rest_api_version_history.rst), so that is what it advertises.
 * @module
 */
export const PLACEMENT_MIN_VERSION = '1.0';
export const PLACEMENT_MAX_VERSION = '1.39';
