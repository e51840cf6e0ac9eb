//! DFM definition files (ORS custom action elements) turned into custom actions that flows can call.
