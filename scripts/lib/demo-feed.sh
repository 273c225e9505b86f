# Sourced by dev.sh and demo.sh: write the demo RSS feed the scraper reads
# into folder $1, its links on 127.0.0.1:$2.
write_demo_feed() {
    local dir=$1 port=$2
    mkdir -p "$dir"
    cat > "$dir/feed.xml" <<FEED
<?xml version="1.0"?>
<rss version="2.0"><channel><title>Signet demo feed</title>
<item><title>Keys rotate, tokens keep working</title><link>http://127.0.0.1:$port/items/rotation</link>
<description>Verifiers refetch the JWKS when a new kid appears.</description></item>
<item><title>Local verification</title><link>http://127.0.0.1:$port/items/local</link>
<description>No call to the auth server per request.</description></item>
</channel></rss>
FEED
}
