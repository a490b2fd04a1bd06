// Intentionally empty: the module only exports headers (see include/CBurgSystem.h).
#include "CBurgSystem.h"
