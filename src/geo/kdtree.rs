//! A static 3-d k-d tree for nearest-point queries on the sphere.
//!
//! Points are unit vectors; the chord between two unit vectors grows with the great-circle distance, so the
//! nearest point by Euclidean distance is the nearest on the Earth, with no special case at the poles or the
//! antimeridian. The tree is stored in one array: the median of each range is its node, the halves are its
//! subtrees.

/// A point on the unit sphere with the caller's index.
#[derive(Debug, Clone, Copy)]
struct Entry {
    point: [f64; 3],
    id: u32,
}

/// Nearest-neighbour index over points on the sphere.
#[derive(Debug, Clone)]
pub struct KdTree {
    entries: Vec<Entry>,
}

/// The unit vector of a latitude/longitude in degrees.
pub fn unit_vector(lat: f64, lon: f64) -> [f64; 3] {
    let (phi, lambda) = (lat.to_radians(), lon.to_radians());
    [
        phi.cos() * lambda.cos(),
        phi.cos() * lambda.sin(),
        phi.sin(),
    ]
}

fn squared_distance(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
}

impl KdTree {
    /// Builds the tree over `(lat, lon)` points; a point's id is its index in `points`.
    pub fn new(points: &[(f64, f64)]) -> Self {
        let mut entries: Vec<Entry> = points
            .iter()
            .enumerate()
            .map(|(idx, (lat, lon))| Entry {
                point: unit_vector(*lat, *lon),
                id: u32::try_from(idx).unwrap_or(u32::MAX),
            })
            .collect();
        build(&mut entries, 0);
        KdTree { entries }
    }

    /// The id of the point nearest to `(lat, lon)` and its squared chord distance, among points whose squared
    /// chord distance is at most `max_squared`.
    pub fn nearest(&self, lat: f64, lon: f64, max_squared: f64) -> Option<(u32, f64)> {
        let target = unit_vector(lat, lon);
        let mut best: Option<(u32, f64)> = None;
        let mut limit = max_squared;
        search(&self.entries, 0, &target, &mut best, &mut limit);
        best
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the tree holds no point.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn build(entries: &mut [Entry], depth: usize) {
    if entries.len() <= 1 {
        return;
    }
    let axis = depth % 3;
    let mid = entries.len() / 2;
    entries.select_nth_unstable_by(mid, |a, b| a.point[axis].total_cmp(&b.point[axis]));
    let (left, right) = entries.split_at_mut(mid);
    build(left, depth + 1);
    build(&mut right[1..], depth + 1);
}

fn search(
    entries: &[Entry],
    depth: usize,
    target: &[f64; 3],
    best: &mut Option<(u32, f64)>,
    limit: &mut f64,
) {
    if entries.is_empty() {
        return;
    }
    let axis = depth % 3;
    let mid = entries.len() / 2;
    let node = &entries[mid];
    let dist = squared_distance(&node.point, target);
    if dist <= *limit {
        *best = Some((node.id, dist));
        *limit = dist;
    }
    let delta = target[axis] - node.point[axis];
    let (near, far) = if delta < 0.0 {
        (&entries[..mid], &entries[mid + 1..])
    } else {
        (&entries[mid + 1..], &entries[..mid])
    };
    search(near, depth + 1, target, best, limit);
    // The far side can only hold a closer point if the splitting plane is closer than the best so far.
    if delta * delta <= *limit {
        search(far, depth + 1, target, best, limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random points, to compare the tree with a full scan.
    fn points(n: usize) -> Vec<(f64, f64)> {
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| (next() * 180.0 - 90.0, next() * 360.0 - 180.0))
            .collect()
    }

    #[test]
    fn the_tree_finds_what_a_full_scan_finds() {
        let cities = points(3000);
        let tree = KdTree::new(&cities);
        assert_eq!(tree.len(), 3000);
        for (lat, lon) in points(500)
            .into_iter()
            .map(|(lat, lon)| (lat * 0.999, lon + 0.37))
        {
            let target = unit_vector(lat, lon);
            let expected = cities
                .iter()
                .map(|(c_lat, c_lon)| squared_distance(&unit_vector(*c_lat, *c_lon), &target))
                .fold(f64::INFINITY, f64::min);
            let (_, found) = tree.nearest(lat, lon, f64::INFINITY).unwrap();
            assert_eq!(found, expected);
        }
    }

    #[test]
    fn the_limit_excludes_far_points() {
        let tree = KdTree::new(&[(0.0, 0.0)]);
        assert!(tree.nearest(0.0, 1.0, 1e-6).is_none());
        assert_eq!(tree.nearest(0.0, 0.0, 1e-6).map(|(id, _)| id), Some(0));
        assert!(KdTree::new(&[]).nearest(0.0, 0.0, 4.0).is_none());
    }
}
