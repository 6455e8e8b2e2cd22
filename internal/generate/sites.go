package generate

// site is one entry of the site catalogue: a real city with the country,
// time zone and language that match it, and the phone-number templates
// of that city. In a template every N is replaced by a random digit.
// Where a country has numbers reserved for fiction (US 555-01xx, the UK's
// Ofcom drama ranges, Australia's ACMA ranges) the templates use them.
type site struct {
	name     string // SITENAME
	cc       string // ISO 3166-1 alpha-2 code
	country  string // ISO 3166-1 name, as refdata knows it
	tz       string // tz database name
	lang     string // ISO 639-1 code
	culture  culture
	address1 string
	city     string
	state    string
	postal   string
	lat, lon string
	land     string // landline template
	mobile   string // mobile template
}

// sites is the catalogue, in the order sites are used: the first entries
// span several countries, so even a small archive has at least three.
var sites = []site{
	{"New York HQ", "US", "United States", "America/New_York", "en", cultEN, "350 Fifth Avenue", "New York", "NY", "10118", "40.7484", "-73.9857", "(212) 555-01NN", "(917) 555-01NN"},
	{"Berlin", "DE", "Germany", "Europe/Berlin", "de", cultDE, "Friedrichstraße 68", "Berlin", "Berlin", "10117", "52.5200", "13.4050", "+49 30 NNNNNNN", "+49 151 NNNNNNNN"},
	{"London", "GB", "United Kingdom", "Europe/London", "en", cultEN, "1 Poultry", "London", "England", "EC2R 8EJ", "51.5136", "-0.0890", "020 7946 0NNN", "07700 900NNN"},
	{"San Francisco", "US", "United States", "US/Pacific", "en", cultEN, "101 Mission Street", "San Francisco", "CA", "94105", "37.7907", "-122.3972", "(415) 555-01NN", "(628) 555-01NN"},
	{"Paris", "FR", "France", "Europe/Paris", "fr", cultFR, "12 Rue de la Paix", "Paris", "Île-de-France", "75002", "48.8686", "2.3310", "+33 1 NN NN NN NN", "+33 6 NN NN NN NN"},
	{"Tokyo", "JP", "Japan", "Asia/Tokyo", "ja", cultJA, "1-1 Marunouchi, Chiyoda-ku", "Tokyo", "Tokyo", "100-0005", "35.6812", "139.7671", "03-NNNN-NNNN", "090-NNNN-NNNN"},
	{"Chicago", "US", "United States", "America/Chicago", "en", cultEN, "233 South Wacker Drive", "Chicago", "IL", "60606", "41.8789", "-87.6359", "(312) 555-01NN", "(773) 555-01NN"},
	{"München", "DE", "Germany", "Europe/Berlin", "de", cultDE, "Marienplatz 8", "München", "Bayern", "80331", "48.1374", "11.5755", "+49 89 NNNNNNN", "+49 160 NNNNNNNN"},
	{"Toronto", "CA", "Canada", "America/Toronto", "en", cultEN, "100 Front Street West", "Toronto", "Ontario", "M5J 1E3", "43.6453", "-79.3806", "(416) 555-01NN", "(647) 555-01NN"},
	{"Bengaluru", "IN", "India", "Asia/Kolkata", "en", cultIN, "MG Road 45", "Bengaluru", "Karnataka", "560001", "12.9756", "77.6050", "+91 80 NNNN NNNN", "+91 98NNN NNNNN"},
	{"Sydney", "AU", "Australia", "Australia/Sydney", "en", cultEN, "1 Macquarie Place", "Sydney", "NSW", "2000", "-33.8634", "151.2100", "02 5550 NNNN", "0491 570 11N"},
	{"São Paulo", "BR", "Brazil", "America/Sao_Paulo", "pt", cultPT, "Avenida Paulista 1578", "São Paulo", "SP", "01310-200", "-23.5614", "-46.6559", "+55 11 NNNN-NNNN", "+55 11 9NNNN-NNNN"},
	{"Madrid", "ES", "Spain", "Europe/Madrid", "es", cultES, "Gran Vía 28", "Madrid", "Comunidad de Madrid", "28013", "40.4203", "-3.7058", "+34 91 NNN NN NN", "+34 6NN NNN NNN"},
	{"Dublin", "IE", "Ireland", "Europe/Dublin", "en", cultEN, "1 Grand Canal Square", "Dublin", "County Dublin", "D02 P820", "53.3398", "-6.2386", "+353 1 NNN NNNN", "+353 87 NNN NNNN"},
	{"Oslo", "NO", "Norway", "Europe/Oslo", "nb", cultNordic, "Karl Johans gate 22", "Oslo", "Oslo", "0159", "59.9127", "10.7461", "+47 2N NN NN NN", "+47 4N NN NN NN"},
	{"Singapore", "SG", "Singapore", "Asia/Singapore", "en", cultEN, "1 Raffles Place", "Singapore", "", "048616", "1.2840", "103.8510", "+65 6NNN NNNN", "+65 9NNN NNNN"},
	{"Denver", "US", "United States", "America/Denver", "en", cultEN, "1801 California Street", "Denver", "CO", "80202", "39.7475", "-104.9903", "(303) 555-01NN", "(720) 555-01NN"},
	{"Manchester", "GB", "United Kingdom", "Europe/London", "en", cultEN, "1 Piccadilly Gardens", "Manchester", "England", "M1 1RG", "53.4808", "-2.2374", "0161 496 0NNN", "07700 900NNN"},
	{"Lyon", "FR", "France", "Europe/Paris", "fr", cultFR, "10 Place Bellecour", "Lyon", "Auvergne-Rhône-Alpes", "69002", "45.7578", "4.8320", "+33 4 NN NN NN NN", "+33 7 NN NN NN NN"},
	{"Zürich", "CH", "Switzerland", "Europe/Zurich", "de", cultDE, "Bahnhofstrasse 45", "Zürich", "ZH", "8001", "47.3702", "8.5392", "+41 44 NNN NN NN", "+41 79 NNN NN NN"},
	{"Amsterdam", "NL", "Netherlands", "Europe/Amsterdam", "nl", cultNL, "Herengracht 182", "Amsterdam", "Noord-Holland", "1016 BR", "52.3731", "4.8883", "+31 20 NNN NNNN", "+31 6 NNNN NNNN"},
	{"Stockholm", "SE", "Sweden", "Europe/Stockholm", "sv", cultNordic, "Drottninggatan 33", "Stockholm", "Stockholms län", "111 51", "59.3326", "18.0649", "+46 8 NNN NNN NN", "+46 70 NNN NN NN"},
	{"Mexico City", "MX", "Mexico", "America/Mexico_City", "es", cultES, "Paseo de la Reforma 250", "Ciudad de México", "CDMX", "06600", "19.4270", "-99.1677", "+52 55 NNNN NNNN", "+52 1 55 NNNN NNNN"},
	{"Osaka", "JP", "Japan", "Asia/Tokyo", "ja", cultJA, "3-1 Umeda, Kita-ku", "Osaka", "Osaka", "530-0001", "34.7025", "135.4959", "06-NNNN-NNNN", "080-NNNN-NNNN"},
	{"Hamburg", "DE", "Germany", "Europe/Berlin", "de", cultDE, "Jungfernstieg 7", "Hamburg", "Hamburg", "20354", "53.5526", "9.9925", "+49 40 NNNNNNN", "+49 170 NNNNNNNN"},
	{"Mumbai", "IN", "India", "Asia/Kolkata", "hi", cultIN, "Nariman Point 12", "Mumbai", "Maharashtra", "400021", "18.9256", "72.8242", "+91 22 NNNN NNNN", "+91 99NNN NNNNN"},
	{"Melbourne", "AU", "Australia", "Australia/Melbourne", "en", cultEN, "120 Collins Street", "Melbourne", "VIC", "3000", "-37.8141", "144.9707", "03 7010 NNNN", "0491 570 12N"},
	{"Vancouver", "CA", "Canada", "America/Vancouver", "en", cultEN, "1055 West Georgia Street", "Vancouver", "British Columbia", "V6E 3P3", "49.2856", "-123.1205", "(604) 555-01NN", "(778) 555-01NN"},
	{"Kraków", "PL", "Poland", "Europe/Warsaw", "pl", cultPL, "Rynek Główny 1", "Kraków", "Małopolskie", "31-042", "50.0617", "19.9373", "+48 12 NNN NN NN", "+48 5NN NNN NNN"},
	{"Milan", "IT", "Italy", "Europe/Rome", "it", cultIT, "Via Dante 7", "Milano", "Lombardia", "20121", "45.4669", "9.1850", "+39 02 NNNN NNNN", "+39 3NN NNN NNNN"},
	{"Edinburgh", "GB", "United Kingdom", "Europe/London", "en", cultEN, "1 Princes Street", "Edinburgh", "Scotland", "EH2 2EQ", "55.9533", "-3.1883", "0131 496 0NNN", "07700 900NNN"},
	{"Austin", "US", "United States", "US/Central", "en", cultEN, "500 West 2nd Street", "Austin", "TX", "78701", "30.2650", "-97.7490", "(512) 555-01NN", "(737) 555-01NN"},
	{"Seattle", "US", "United States", "US/Pacific", "en", cultEN, "1201 Third Avenue", "Seattle", "WA", "98101", "47.6076", "-122.3366", "(206) 555-01NN", "(425) 555-01NN"},
	{"Montréal", "CA", "Canada", "America/Toronto", "fr", cultFR, "1000 Rue De La Gauchetière Ouest", "Montréal", "Québec", "H3B 4W5", "45.4987", "-73.5665", "(514) 555-01NN", "(438) 555-01NN"},
	{"Barcelona", "ES", "Spain", "Europe/Madrid", "es", cultES, "Passeig de Gràcia 21", "Barcelona", "Catalunya", "08007", "41.3917", "2.1649", "+34 93 NNN NN NN", "+34 6NN NNN NNN"},
	{"Frankfurt am Main", "DE", "Germany", "Europe/Berlin", "de", cultDE, "Neue Mainzer Straße 52", "Frankfurt am Main", "Hessen", "60311", "50.1109", "8.6821", "+49 69 NNNNNNN", "+49 171 NNNNNNNN"},
	{"Copenhagen", "DK", "Denmark", "Europe/Copenhagen", "da", cultNordic, "Strøget 18", "København", "Hovedstaden", "1160", "55.6786", "12.5724", "+45 NN NN NN NN", "+45 2N NN NN NN"},
	{"Helsinki", "FI", "Finland", "Europe/Helsinki", "fi", cultNordic, "Aleksanterinkatu 52", "Helsinki", "Uusimaa", "00100", "60.1690", "24.9424", "+358 9 NNN NNNN", "+358 40 NNN NNNN"},
	{"Boston", "US", "United States", "America/New_York", "en", cultEN, "200 Clarendon Street", "Boston", "MA", "02116", "42.3493", "-71.0752", "(617) 555-01NN", "(857) 555-01NN"},
	{"Auckland", "NZ", "New Zealand", "Pacific/Auckland", "en", cultEN, "23 Customs Street East", "Auckland", "Auckland", "1010", "-36.8436", "174.7669", "+64 9 NNN NNNN", "+64 21 NNN NNNN"},
}

// siteCount is how many sites an archive of users people has: 5 for a
// small company, growing by one per thousand people, at most the whole
// catalogue; none without people.
func siteCount(users int) int {
	if users == 0 {
		return 0
	}
	return min(len(sites), 5+users/1000)
}

// areaCode returns the digits between the parentheses of a North American
// template such as "(212) 555-01NN", and "" for other templates.
func areaCode(template string) string {
	if len(template) > 5 && template[0] == '(' && template[4] == ')' {
		return template[1:4]
	}
	return ""
}
