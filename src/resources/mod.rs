//! Resource groups (access numbers and the like) with RANDOM, LOCAL and CLUSTER allocation.
