"""Small helpers shared by the simulator modules: errors, JSON, forms, durations."""

import json
import re
import time
import uuid
from urllib.parse import parse_qs


class ApiError(Exception):
    """A Portainer handler error, rendered as {"message", "details"}."""

    def __init__(self, status, message, details=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details

    def body(self):
        """The JSON body Portainer's libhttp writes for this error."""
        return error_body(self.message, self.details)


class PlainError(Exception):
    """An error rendered with a plain-text or empty body (gorilla 404/405, csrf, 502)."""

    def __init__(self, status, text=''):
        super().__init__(text)
        self.status = status
        self.text = text


class DropConnection(Exception):
    """Close the client connection without writing any response (e.g. a Go handler panic)."""


def capitalize(text):
    """First letter upper-cased, as libhttp does with error details."""
    if not text:
        return text
    return text[0].upper() + text[1:]


def error_body(message, details=None):
    """Build the Portainer error body. details repeats message when there is no underlying error."""
    if details is None:
        details = message
    body = {}
    if message:
        body['message'] = message
    if details:
        body['details'] = capitalize(details)
    return body


def dumps(obj):
    """Compact JSON without a trailing newline, like Go's json encoder output trimmed."""
    return json.dumps(obj, separators=(',', ':')).encode('utf-8')


def now():
    """Current unix time in seconds."""
    return int(time.time())


def new_uuid():
    """A random UUID string."""
    return str(uuid.uuid4())


def is_uuid(value):
    """True when value parses as a UUID."""
    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False


_DURATION_RE = re.compile(r'([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)')
_DURATION_UNITS = {'ns': 1e-9, 'us': 1e-6, 'µs': 1e-6, 'ms': 1e-3, 's': 1, 'm': 60, 'h': 3600}


def parse_go_duration(text):
    """Parse a Go duration string ("5m", "1h30m", "10s"); return seconds or raise ValueError."""
    if not isinstance(text, str) or not text:
        raise ValueError('invalid duration %r' % (text,))
    sign = 1
    rest = text
    if rest[0] in '+-':
        sign = -1 if rest[0] == '-' else 1
        rest = rest[1:]
    if rest == '0':
        return 0
    pos = 0
    total = 0.0
    while pos < len(rest):
        match = _DURATION_RE.match(rest, pos)
        if not match:
            raise ValueError('time: invalid duration "%s"' % text)
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if pos == 0:
        raise ValueError('time: invalid duration "%s"' % text)
    return sign * total


def parse_int_strict(value):
    """strconv.Atoi: optional sign and digits only."""
    if value is None:
        raise ValueError('missing')
    if not re.fullmatch(r'[+-]?[0-9]+', value):
        raise ValueError('strconv.Atoi: parsing "%s": invalid syntax' % value)
    return int(value)


def go_bool(value):
    """Go form/query booleans: true only for exactly "true"."""
    return value == 'true'


class Form:
    """Parsed request form: body values (multipart or urlencoded) first, then query values (Go FormValue)."""

    def __init__(self, body_values, files, query):
        self.body_values = body_values
        self.files = files
        self.query = query

    def value(self, name):
        """First value of name, body before query; None when absent."""
        if name in self.body_values and self.body_values[name]:
            return self.body_values[name][0]
        if name in self.query and self.query[name]:
            return self.query[name][0]
        return None

    def values(self, name):
        """All values of name (body then query)."""
        return list(self.body_values.get(name, [])) + list(self.query.get(name, []))

    def file(self, name):
        """Content of the file part name, or None."""
        entry = self.files.get(name)
        return entry[1] if entry else None


def parse_form(content_type, body, query):
    """Parse a multipart/form-data or urlencoded body into a Form."""
    values = {}
    files = {}
    ctype = (content_type or '').lower()
    if ctype.startswith('multipart/form-data'):
        match = re.search(r'boundary=("?)([^";]+)\1', content_type or '', re.I)
        if match:
            _parse_multipart(body, match.group(2).encode('latin-1'), values, files)
    elif ctype.startswith('application/x-www-form-urlencoded'):
        values = parse_qs(body.decode('utf-8', 'replace'), keep_blank_values=True)
    return Form(values, files, query)


def _parse_multipart(body, boundary, values, files):
    delimiter = b'--' + boundary
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b'--'):
            break
        if chunk.startswith(b'\r\n'):
            chunk = chunk[2:]
        elif chunk.startswith(b'\n'):
            chunk = chunk[1:]
        head, sep, content = chunk.partition(b'\r\n\r\n')
        if not sep:
            head, sep, content = chunk.partition(b'\n\n')
            if not sep:
                continue
        if content.endswith(b'\r\n'):
            content = content[:-2]
        elif content.endswith(b'\n'):
            content = content[:-1]
        disposition = ''
        for line in head.decode('utf-8', 'replace').splitlines():
            key, dummy, val = line.partition(':')
            if key.strip().lower() == 'content-disposition':
                disposition = val
        name_match = re.search(r'(?:^|;)\s*name="([^"]*)"', disposition)
        if not name_match:
            continue
        name = name_match.group(1)
        file_match = re.search(r'filename="([^"]*)"', disposition)
        if file_match is not None:
            files.setdefault(name, (file_match.group(1), content))
        else:
            values.setdefault(name, []).append(content.decode('utf-8', 'replace'))


def decode_json_body(body, required=True):
    """Decode a JSON request body like libhttp's DecodeAndValidateJSONPayload (400 on failure)."""
    if not body:
        if required:
            raise ApiError(400, 'Invalid request payload', 'EOF')
        return {}
    try:
        data = json.loads(body.decode('utf-8'))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, 'Invalid request payload', str(exc)) from exc
    return data


def ci_get(data, key, default=None):
    """Case-insensitive key lookup, like Go's JSON struct decoding (exact match preferred)."""
    if not isinstance(data, dict):
        return default
    if key in data:
        return data[key]
    lower = key.lower()
    for name, value in data.items():
        if isinstance(name, str) and name.lower() == lower:
            return value
    return default


def ci_has(data, key):
    """Case-insensitive presence test."""
    if not isinstance(data, dict):
        return False
    lower = key.lower()
    return any(isinstance(name, str) and name.lower() == lower for name in data)


def json_type_error(name, expected, value):
    """400 for a JSON value of the wrong type, as Go's decoder reports it."""
    return ApiError(400, 'Invalid request payload',
                    'json: cannot unmarshal %s into Go struct field .%s of type %s' % (_json_kind(value), name, expected))


def _json_kind(value):
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, (int, float)):
        return 'number'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, list):
        return 'array'
    if isinstance(value, dict):
        return 'object'
    return 'null'


def field(data, key, kind, default=None):
    """Typed case-insensitive field read: kind is str, int, bool, list or dict. null gives default."""
    value = ci_get(data, key, None)
    if value is None:
        return default
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise json_type_error(key, 'int', value)
        return int(value)
    if kind is bool:
        if not isinstance(value, bool):
            raise json_type_error(key, 'bool', value)
        return value
    if kind is str:
        if not isinstance(value, str):
            raise json_type_error(key, 'string', value)
        return value
    if kind is list:
        if not isinstance(value, list):
            raise json_type_error(key, '[]', value)
        return value
    if kind is dict:
        if not isinstance(value, dict):
            raise json_type_error(key, 'struct', value)
        return value
    return value


def env_pairs(value, key='Env'):
    """Validate a [{name, value}] list (Portainer Pair) and normalise its keys."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise json_type_error(key, '[]portainer.Pair', value)
    result = []
    for item in value:
        if not isinstance(item, dict):
            raise json_type_error(key, 'portainer.Pair', item)
        name = ci_get(item, 'name', '')
        val = ci_get(item, 'value', '')
        if not isinstance(name, str) or not isinstance(val, str):
            raise json_type_error(key + '.name', 'string', name if not isinstance(name, str) else val)
        result.append({'name': name, 'value': val})
    return result
