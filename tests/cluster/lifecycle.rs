//! Nodes coming and going: a duplicate node id is refused, a bad store is refused at start, a killed node's
//! sessions end at once on the other nodes, a drained node answers OFFLINE and then exits, and a Redis outage
//! answers 503 and heals by itself.
