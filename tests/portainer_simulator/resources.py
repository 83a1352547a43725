"""Resource controls (RCs): Portainer's access records for Docker resources and stacks."""

CONTAINER = 1
SERVICE = 2
VOLUME = 3
NETWORK = 4
SECRET = 5
STACK = 6
CONFIG = 7

SYSTEM_NETWORKS = ('bridge', 'host', 'none', 'ingress', 'nat')


def _new(store, resource_id, rtype, user_id=None, admins_only=False, public=False):
    with store.lock:
        rc = {
            'Id': store.next_id('resource_controls'), 'ResourceId': resource_id, 'SubResourceIds': [], 'Type': rtype,
            'UserAccesses': [{'UserId': user_id, 'AccessLevel': 1}] if user_id is not None else [],
            'TeamAccesses': [], 'Public': public, 'AdministratorsOnly': admins_only, 'System': False,
        }
        store.items('resource_controls').append(rc)
        store.save()
        return dict(rc)


def create_private(store, resource_id, rtype, user_id):
    """A private RC for one user."""
    return _new(store, resource_id, rtype, user_id=user_id)


def create_admins_only(store, resource_id, rtype):
    """An AdministratorsOnly RC."""
    return _new(store, resource_id, rtype, admins_only=True)


def create_public(store, resource_id, rtype):
    """A public RC."""
    return _new(store, resource_id, rtype, public=True)


def create_for_user(store, resource_id, rtype, auth):
    """Stacks: AdministratorsOnly for admins, private for others (2.5+)."""
    if auth.is_admin:
        return create_admins_only(store, resource_id, rtype)
    return create_private(store, resource_id, rtype, auth.user_id)


def find(store, resource_id, rtype=None):
    """The RC of a resource id (and type when given), or None."""
    with store.lock:
        for rc in store.items('resource_controls'):
            if rc['ResourceId'] == resource_id and (rtype is None or rc['Type'] == rtype):
                return dict(rc)
            if resource_id in rc.get('SubResourceIds', []) and (rtype is None or rc['Type'] == rtype):
                return dict(rc)
    return None


def find_by_prefix(store, docker_id, rtype):
    """RC whose ResourceId equals a Docker id or is a prefix-match of it (short ids)."""
    if not docker_id:
        return None
    with store.lock:
        for rc in store.items('resource_controls'):
            if rc['Type'] == rtype and (rc['ResourceId'] == docker_id or (len(rc['ResourceId']) >= 12 and docker_id.startswith(rc['ResourceId']))):
                return dict(rc)
    return None


def delete(store, resource_id, rtype=None):
    """Remove the RC of a resource; True when one was removed."""
    with store.lock:
        before = len(store.items('resource_controls'))
        store.data['resource_controls'] = [
            rc for rc in store.items('resource_controls')
            if not (rc['ResourceId'] == resource_id and (rtype is None or rc['Type'] == rtype))]
        removed = len(store.items('resource_controls')) != before
        if removed:
            store.save()
        return removed


def system_rc(resource_id):
    """The synthetic public System RC given to system networks."""
    return {'Id': 0, 'ResourceId': resource_id, 'SubResourceIds': [], 'Type': NETWORK, 'UserAccesses': [],
            'TeamAccesses': [], 'Public': True, 'AdministratorsOnly': False, 'System': True}


def can_access(rc, auth):
    """Whether a user may see a resource protected by rc (None: admins only)."""
    if auth.is_admin:
        return True
    if rc is None:
        return False
    if rc.get('Public'):
        return True
    if rc.get('AdministratorsOnly'):
        return False
    return any(access.get('UserId') == auth.user_id for access in rc.get('UserAccesses', []))


def labels_rc(store, labels, rtype, resource_id, users_by_name):
    """Create an RC from io.portainer.accesscontrol.* labels on first read; returns it or None."""
    labels = labels or {}
    if 'io.portainer.accesscontrol.public' in labels:
        return create_public(store, resource_id, rtype)
    names = labels.get('io.portainer.accesscontrol.users')
    if names:
        users = [users_by_name[n.strip()] for n in names.split(',') if n.strip() in users_by_name]
        with store.lock:
            rc = {
                'Id': store.next_id('resource_controls'), 'ResourceId': resource_id, 'SubResourceIds': [], 'Type': rtype,
                'UserAccesses': [{'UserId': u, 'AccessLevel': 1} for u in users], 'TeamAccesses': [], 'Public': False,
                'AdministratorsOnly': False, 'System': False,
            }
            store.items('resource_controls').append(rc)
            store.save()
            return dict(rc)
    return None
