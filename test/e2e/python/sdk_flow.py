"""A few calls through openstacksdk, as automation would make them: list flavors and images, boot a
server and wait for it, read it back, delete it and wait for it to be gone. Prints one JSON line."""
import json
import sys

import openstack


def main() -> int:
    conn = openstack.connect()
    flavor = conn.compute.find_flavor("m1.nano")
    image = conn.image.find_image(sys.argv[1])
    server = conn.compute.create_server(
        name="sdk-one", flavor_id=flavor.id, image_id=image.id, networks="none"
    )
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=180)
    shown = conn.compute.get_server(server.id)
    listed = [s.name for s in conn.compute.servers()]
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=180)
    print(json.dumps({
        "flavor": flavor.name,
        "image": image.name,
        "status": shown.status,
        "host": shown.compute_host,
        "listed": listed,
        "remaining": [s.name for s in conn.compute.servers()],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
