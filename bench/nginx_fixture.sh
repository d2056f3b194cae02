# Sourced by the nginx benchmarks and the demo: a private nginx (Debian's /usr/sbin/nginx)
# serving one page on 127.0.0.1:$port from $dir, and a test script driving it with curl and wrk.
#   nginx_fixture DIR PORT   -> sets nginx_args (array) and nginx_test (path)
nginx_fixture() {
  local dir=$1 port=$2
  mkdir -p "$dir/www" "$dir/tmp"
  echo lupa-ok > "$dir/www/index.html"
  cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
error_log $dir/error.log;
pid $dir/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  server { listen 127.0.0.1:$port; root $dir/www; }
}
CONF
  cat > "$dir/test.sh" <<TEST
#!/bin/sh
# nginx works when it serves the page and survives a short wrk run without errors.
curl -sf --max-time 2 http://127.0.0.1:$port/index.html | grep -q lupa-ok || exit 1
out=\$(wrk -t1 -c2 -d1s http://127.0.0.1:$port/index.html 2>&1) || exit 1
echo "\$out" | grep -q 'Non-2xx' && exit 1
echo "\$out" | grep -Eq 'Requests/sec: +[0-9.]+' || exit 1
exit 0
TEST
  chmod -R a+rX "$dir"
  chmod 755 "$dir/test.sh"
  nginx_args=(-p "$dir" -c "$dir/nginx.conf" -g 'daemon off;')
  nginx_test=$dir/test.sh
}

nginx_fixture_check() {
  local tool
  for tool in /usr/sbin/nginx /usr/bin/wrk /usr/bin/curl; do
    [ -x "$tool" ] || { echo "$tool is missing (scripts/install-deps.sh installs it)" >&2; return 1; }
  done
}
