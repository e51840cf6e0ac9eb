//! The plane geometry of a diagram: points, rectangles, cubic Bézier segments, and where a line from outside
//! meets a box's border.

/// A point.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pt {
    /// Across, growing rightwards.
    pub x: f64,
    /// Down, growing downwards.
    pub y: f64,
}

impl Pt {
    /// The point (x, y).
    pub fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }

    /// This point moved by `by`.
    pub fn add(self, by: Pt) -> Pt {
        Pt::new(self.x + by.x, self.y + by.y)
    }

    /// The vector from `other` to this point.
    pub fn sub(self, other: Pt) -> Pt {
        Pt::new(self.x - other.x, self.y - other.y)
    }

    /// The distance to `other`.
    pub fn distance(self, other: Pt) -> f64 {
        (self.x - other.x).hypot(self.y - other.y)
    }
}

/// An axis-aligned rectangle: top-left corner and size.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rect {
    /// Left side.
    pub x: f64,
    /// Top side.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    /// The rectangle at (x, y) of size w × h.
    pub fn new(x: f64, y: f64, w: f64, h: f64) -> Self {
        Self { x, y, w, h }
    }

    /// Its centre.
    pub fn center(&self) -> Pt {
        Pt::new(self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    /// This rectangle moved by `by`.
    pub fn moved(&self, by: Pt) -> Rect {
        Rect::new(self.x + by.x, self.y + by.y, self.w, self.h)
    }

    /// The smallest rectangle holding both.
    pub fn union(&self, other: Rect) -> Rect {
        let left = self.x.min(other.x);
        let top = self.y.min(other.y);
        let right = (self.x + self.w).max(other.x + other.w);
        let bottom = (self.y + self.h).max(other.y + other.h);
        Rect::new(left, top, right - left, bottom - top)
    }

    /// True when `point` is inside or on the border.
    pub fn contains(&self, point: Pt) -> bool {
        point.x >= self.x
            && point.x <= self.x + self.w
            && point.y >= self.y
            && point.y <= self.y + self.h
    }

    /// Where the line from the centre towards `point` leaves the rectangle (the centre itself when `point` is
    /// inside).
    pub fn border_toward(&self, point: Pt) -> Pt {
        let center = self.center();
        let delta = point.sub(center);
        if self.contains(point) || (delta.x == 0.0 && delta.y == 0.0) {
            return center;
        }
        let scale_x = if delta.x == 0.0 {
            f64::INFINITY
        } else {
            (self.w / 2.0) / delta.x.abs()
        };
        let scale_y = if delta.y == 0.0 {
            f64::INFINITY
        } else {
            (self.h / 2.0) / delta.y.abs()
        };
        let scale = scale_x.min(scale_y);
        Pt::new(center.x + delta.x * scale, center.y + delta.y * scale)
    }
}

/// One cubic Bézier segment.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Cubic {
    /// Start point.
    pub from: Pt,
    /// First control point.
    pub c1: Pt,
    /// Second control point.
    pub c2: Pt,
    /// End point.
    pub to: Pt,
}

impl Cubic {
    /// The straight segment from `from` to `to`.
    pub fn line(from: Pt, to: Pt) -> Cubic {
        Cubic {
            from,
            c1: from,
            c2: to,
            to,
        }
    }

    /// The same curve run backwards.
    pub fn reversed(&self) -> Cubic {
        Cubic {
            from: self.to,
            c1: self.c2,
            c2: self.c1,
            to: self.from,
        }
    }

    /// The curve moved by `by`.
    pub fn moved(&self, by: Pt) -> Cubic {
        Cubic {
            from: self.from.add(by),
            c1: self.c1.add(by),
            c2: self.c2.add(by),
            to: self.to.add(by),
        }
    }

    /// The point halfway along the parameter.
    pub fn middle(&self) -> Pt {
        let mix = |a: f64, b: f64, c: f64, d: f64| (a + 3.0 * b + 3.0 * c + d) / 8.0;
        Pt::new(
            mix(self.from.x, self.c1.x, self.c2.x, self.to.x),
            mix(self.from.y, self.c1.y, self.c2.y, self.to.y),
        )
    }
}
