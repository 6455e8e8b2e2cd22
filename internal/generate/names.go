package generate

import (
	"strings"
	"unicode"
)

// culture selects the name tables of a person; a site has one.
type culture uint8

const (
	cultEN culture = iota
	cultDE
	cultFR
	cultJA
	cultPT
	cultES
	cultNordic
	cultIN
	cultIT
	cultPL
	cultNL
	numCultures
)

// name is a first or last name with its login stem: the name folded to
// lower-case ASCII letters ("Ødegaard" -> "odegaard", "O'Brien" -> "obrien").
type name struct {
	text, stem string
}

// nameTables holds the first and last names of each culture.
var nameTables = func() [numCultures][2][]name {
	raw := [numCultures][2]string{
		cultEN: {
			"James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Sarah Zoë Siobhán Aoife Liam Olivia Noah Emma Ethan Ava Grace Connor Chloë",
			"Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor O'Brien O'Connor McDonald Murphy Walsh Clarke Thompson White Harris Martin Jackson Lee Walker Young Kelly Nguyen Chen Patel",
		},
		cultDE: {
			"Jürgen Jörg Anna Lena Lukas Felix Sophie Maximilian Katharina Sebastian Julia Tobias Hannah Björn Günter Uwe Lea Jonas Marie Käthe",
			"Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Zimmermann Krüger Groß Weiß",
		},
		cultFR: {
			"François Hélène Zoë Renée Amélie Chloé Léa Camille Théo Hugo Louis Gabriel Jérôme Céline Élodie Noël Manon Inès Jean-Luc Anne-Marie",
			"Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Lefèvre Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau Chevalier Faure Mercier d'Arcy",
		},
		cultJA: {
			"Haruto Yui Sota Aoi Ren Hina Yuto Sakura Takumi Mei Kenji Yuki Hiroshi Akiko Daiki Emi",
			"Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato Yoshida Yamada Sasaki Yamaguchi Matsumoto Inoue Ōno Saitō",
		},
		cultPT: {
			"João José Maria Ana Luís Gonçalo Beatriz Inês Tiago Rafael Mariana Lucas Gabriela Letícia Matheus Larissa Thiago Fernanda",
			"Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes Costa Ribeiro Martins Carvalho Araújo Gonçalves Conceição Simões",
		},
		cultES: {
			"José María Juan Carmen Antonio Lucía Javier Sofía Alejandro Martina Diego Paula Pablo Elena Álvaro Iñigo Begoña Raúl",
			"García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz Hernández Díaz Moreno Muñoz Álvarez Núñez Peña Ibáñez",
		},
		cultNordic: {
			"Søren Bjørn Åsa Ingrid Lars Sigrid Mikkel Freja Astrid Magnus Nils Liv Eirik Sanna Aino Jussi Oskar Elin Signe",
			"Ødegaard Hansen Johansen Olsen Larsen Andersen Nilsson Lindström Åberg Bergström Sjöberg Jensen Nielsen Kristensen Mäkinen Virtanen Korhonen Järvinen Haaland Solberg",
		},
		cultIN: {
			"Aarav Priya Rohan Ananya Vikram Kavya Arjun Diya Rahul Sneha Aditya Pooja Siddharth Meera Karthik Lakshmi",
			"Sharma Patel Singh Kumar Gupta Reddy Iyer Nair Rao Mehta Joshi Desai Menon Chatterjee Banerjee D'Souza Pillai Kulkarni",
		},
		cultIT: {
			"Giulia Francesco Alessandro Sofia Lorenzo Chiara Matteo Martina Niccolò Federica Andrea Elisa Gianluca Valentina Luca Giorgia",
			"Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti De_Luca D'Angelo Mancini Lombardi Barbieri",
		},
		cultPL: {
			"Łukasz Małgorzata Piotr Katarzyna Krzysztof Agnieszka Tomasz Magdalena Paweł Joanna Michał Zofia Wojciech Aleksandra Jakub Ewa",
			"Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak Dąbrowski Kozłowski Jankowski Mazur Krawczyk Grabowski",
		},
		cultNL: {
			"Daan Sem Emma Julia Lotte Bram Sanne Thijs Fleur Joost Anouk Ruben Femke Jeroen Ilse Maarten",
			"de_Jong Jansen de_Vries van_den_Berg van_Dijk Bakker Janssen Visser Smit Meijer de_Boer Mulder de_Groot Bos Vos Peters Hendriks van_Leeuwen",
		},
	}
	var t [numCultures][2][]name
	for c := range raw {
		for k, list := range raw[c] {
			for _, w := range strings.Fields(list) {
				text := strings.ReplaceAll(w, "_", " ")
				t[c][k] = append(t[c][k], name{text: text, stem: stem(text)})
			}
		}
	}
	return t
}()

// fold maps the accented letters of the name tables to ASCII.
var fold = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'ā': "a", 'ą': "a",
	'æ': "ae", 'ç': "c", 'ć': "c", 'č': "c",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ē': "e", 'ę': "e",
	'ì': "i", 'í': "i", 'î': "i", 'ï': "i",
	'ñ': "n", 'ń': "n",
	'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o", 'ō': "o",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ū': "u",
	'ý': "y", 'ÿ': "y", 'ß': "ss", 'ł': "l", 'ś': "s", 'š': "s", 'ź': "z", 'ż': "z", 'ž': "z",
}

// stem folds a name to lower-case ASCII letters, dropping everything else.
func stem(s string) string {
	var b strings.Builder
	for _, r := range s {
		r = unicode.ToLower(r)
		switch {
		case 'a' <= r && r <= 'z':
			b.WriteRune(r)
		case fold[r] != "":
			b.WriteString(fold[r])
		}
	}
	return b.String()
}

// Values of the custom fields of the default configuration.
var (
	departments = []string{
		"Engineering", "Information Technology", "Operations", "Customer Support",
		"Sales, EMEA", "Sales, Americas", "Sales, APAC", "Finance", "Human Resources",
		"Facilities", "Security", "Research & Development", "Legal", "Marketing",
	}
	employeeTypes = []string{"Full-time", "Full-time", "Full-time", "Full-time", "Part-time", "Contractor", "Intern"}
)

// Role lists: most people are standard users.
var roleLists = []struct {
	roles  string
	weight int
}{
	{"Standard User", 880},
	{"Standard User,Group Supervisor", 70},
	{"Standard User,Person Supervisor", 25},
	{"Full Access User", 15},
	{"Standard User,Group Supervisor,Person Supervisor", 7},
	{"Company Administrator", 3},
}

var roleWeight = func() int {
	n := 0
	for _, r := range roleLists {
		n += r.weight
	}
	return n
}()

// Group functions, for group names and descriptions.
var groupFunctions = []string{
	"Network Operations", "Database", "Payments", "Service Desk", "Facilities",
	"Security Operations", "Platform", "Identity", "Storage", "Field Service",
	"Incident Command", "Mobile Apps", "Data Center", "Logistics", "Plant Maintenance",
	"Billing", "Messaging", "Web Frontend", "Search", "Telephony",
}

// groupDescriptions are formats with one %s for the function; some hold
// commas or quotes, so writers must quote them.
var groupDescriptions = []string{
	"On-call rotation for %s",
	"%s escalations, 24x7",
	"Handles \"Sev 1\" incidents for %s",
	"%s team (primary responders)",
	"",
}

// shiftSets are the shift names of a group with 1, 2 or 3 shifts, with
// the key suffix of each (the name in lower case, no spaces).
var shiftSets = [][][]shift{
	1: {{{"24x7", "24x7", "Around the clock"}}, {{"Default", "default", ""}}},
	2: {
		{{"Day", "day", "Day shift, 08:00 to 20:00"}, {"Night", "night", "Night shift, 20:00 to 08:00"}},
		{{"Primary", "primary", "First responders"}, {"Backup", "backup", "Called when primary does not answer"}},
	},
	3: {
		{{"Day", "day", "Day shift, Monday to Friday"}, {"Night", "night", "Night shift, Monday to Friday"}, {"Weekend", "weekend", "Saturday and Sunday"}},
		{{"Primary", "primary", "First responders"}, {"Secondary", "secondary", ""}, {"Escalation", "escalation", "Managers, last resort"}},
	},
}

type shift struct {
	name, suffix, description string
}

var schedules = []string{"0", "0,5", "0,5,10", "0,5,10", "0,10,10,15", "5,5,5", "0,15"}
