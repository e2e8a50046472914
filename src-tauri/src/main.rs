fn main() { so_outbox::run() }
